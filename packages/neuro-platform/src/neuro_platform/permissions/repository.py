"""Grants and role memberships in the database."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import PermissionGrantRow, RoleMembershipRow
from .actions import Action
from .rules import Grant
from .uris import ResourceUri, parse_uri


class PermissionRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def roles_of(self, role_name: str) -> set[str]:
        """The role itself and every role it belongs to, directly or transitively."""
        found = {role_name}
        frontier = {role_name}
        async with self._sessions() as session:
            while frontier:
                parents = set(
                    await session.scalars(
                        select(RoleMembershipRow.role_name).where(
                            RoleMembershipRow.member_name.in_(frontier)
                        )
                    )
                )
                frontier = parents - found  # membership cycles stop here
                found |= frontier
        return found

    async def grants_of(self, role_names: Collection[str], schemes: Collection[str]) -> list[Grant]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(PermissionGrantRow).where(PermissionGrantRow.role_name.in_(role_names))
            )
            grants = [Grant(parse_uri(r.uri), Action(r.action)) for r in rows]
        return [g for g in grants if g.uri.scheme in schemes]

    async def put_grant(self, role_name: str, uri: ResourceUri, action: Action) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(PermissionGrantRow).where(
                    PermissionGrantRow.role_name == role_name,
                    PermissionGrantRow.uri == str(uri),
                )
            )
            session.add(PermissionGrantRow(role_name=role_name, uri=str(uri), action=action))

    async def delete_grant(self, role_name: str, uri: ResourceUri) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(PermissionGrantRow).where(
                    PermissionGrantRow.role_name == role_name,
                    PermissionGrantRow.uri == str(uri),
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def add_membership(self, member_name: str, role_name: str) -> None:
        async with self._sessions.begin() as session:
            await session.merge(RoleMembershipRow(member_name=member_name, role_name=role_name))

    async def delete_membership(self, member_name: str, role_name: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(RoleMembershipRow).where(
                    RoleMembershipRow.member_name == member_name,
                    RoleMembershipRow.role_name == role_name,
                )
            )
