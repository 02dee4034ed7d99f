"""Secret rows: (cluster, org, owner, key) -> encrypted value."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .entities import SecretRef
from .models import SecretRow


class SecretRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def put(self, ref: SecretRef, ciphertext: bytes) -> None:
        """Creates the secret or replaces its value (`secret add` of an existing key)."""
        for _ in range(2):  # a concurrent insert of the same key: retry as an update
            try:
                async with self._sessions.begin() as session:
                    row = await session.scalar(_select(ref))
                    if row is None:
                        session.add(
                            SecretRow(
                                cluster_name=ref.cluster_name,
                                org_name=ref.org_name or "",
                                owner=ref.owner,
                                key=ref.key,
                                ciphertext=ciphertext,
                                created_at=datetime.now(UTC),
                            )
                        )
                    else:
                        row.ciphertext = ciphertext
                return
            except IntegrityError:
                continue
        raise RuntimeError(f"could not store secret {ref.uri}")

    async def delete(self, ref: SecretRef) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(SecretRow).where(*_where(ref)).returning(SecretRow.id)
            )
            return result.first() is not None

    async def ciphertext(self, ref: SecretRef) -> bytes | None:
        async with self._sessions() as session:
            row = await session.scalar(_select(ref))
            return None if row is None else row.ciphertext

    async def in_cluster(self, cluster_name: str) -> list[SecretRef]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(SecretRow)
                .where(SecretRow.cluster_name == cluster_name)
                .order_by(SecretRow.owner, SecretRow.org_name, SecretRow.key)
            )
            return [SecretRef(r.cluster_name, r.org_name or None, r.owner, r.key) for r in rows]


def _where(ref: SecretRef) -> list[ColumnElement[bool]]:
    return [
        SecretRow.cluster_name == ref.cluster_name,
        SecretRow.org_name == (ref.org_name or ""),
        SecretRow.owner == ref.owner,
        SecretRow.key == ref.key,
    ]


def _select(ref: SecretRef) -> Select[SecretRow]:
    return select(SecretRow).where(*_where(ref))
