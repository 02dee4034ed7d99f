"""Service account rows; also the registry of their tokens (`auth.identity.RoleTokens`)."""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .entities import ServiceAccount
from .errors import ServiceAccountExistsError
from .models import ServiceAccountRow


class ServiceAccountRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def insert(self, account: ServiceAccount, token_id: str) -> None:
        try:
            async with self._sessions.begin() as session:
                session.add(
                    ServiceAccountRow(
                        id=account.id,
                        owner=account.owner,
                        name=account.name,
                        role=account.role,
                        default_cluster=account.default_cluster,
                        created_at=account.created_at,
                        token_id=token_id,
                    )
                )
        except IntegrityError as e:
            raise ServiceAccountExistsError(
                f"Service account {account.name or account.role!r} already exists"
            ) from e

    async def of_owner(self, owner: str) -> list[ServiceAccount]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ServiceAccountRow)
                .where(ServiceAccountRow.owner == owner)
                .order_by(ServiceAccountRow.created_at)
            )
            return [_account(r) for r in rows]

    async def find(self, owner: str, id_or_name: str) -> ServiceAccount | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(ServiceAccountRow).where(
                    ServiceAccountRow.owner == owner,
                    or_(ServiceAccountRow.id == id_or_name, ServiceAccountRow.name == id_or_name),
                )
            )
            return None if row is None else _account(row)

    async def delete(self, account_id: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(ServiceAccountRow).where(ServiceAccountRow.id == account_id)
            )

    async def is_active(self, role_name: str, token_id: str) -> bool:
        async with self._sessions() as session:
            row = await session.scalar(
                select(ServiceAccountRow.id).where(
                    ServiceAccountRow.role == role_name, ServiceAccountRow.token_id == token_id
                )
            )
            return row is not None


def _account(row: ServiceAccountRow) -> ServiceAccount:
    return ServiceAccount(
        id=row.id,
        owner=row.owner,
        name=row.name,
        role=row.role,
        default_cluster=row.default_cluster,
        created_at=row.created_at,
    )
