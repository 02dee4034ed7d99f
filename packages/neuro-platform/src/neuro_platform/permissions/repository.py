"""Grants, role memberships and roles in the database."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import PermissionGrantRow, RoleMembershipRow, RoleRow, UserRow
from ..errors import ConflictError
from .actions import Action
from .rules import Grant
from .uris import ResourceUri, parse_uri


class RoleExistsError(ConflictError):
    """A user or role of that name exists already: the API answers 409."""


@dataclass(frozen=True)
class HeldGrant:
    """A grant together with the user or role that holds it."""

    holder: str
    grant: Grant


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

    async def grants_held_by(self, role_name: str) -> list[Grant]:
        """The explicit grants of one user or role (not those of its roles)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(PermissionGrantRow).where(PermissionGrantRow.role_name == role_name)
            )
            return [Grant(parse_uri(r.uri), Action(r.action)) for r in rows]

    async def grants_within(
        self, roots: Iterable[ResourceUri], *, except_holder: str
    ) -> list[HeldGrant]:
        """Grants on the given URIs or below them, held by anyone but `except_holder`."""
        conditions = [_within(root) for root in roots]
        if not conditions:
            return []
        async with self._sessions() as session:
            rows = await session.scalars(
                select(PermissionGrantRow)
                .where(PermissionGrantRow.role_name != except_holder, or_(*conditions))
                .order_by(PermissionGrantRow.uri, PermissionGrantRow.role_name)
            )
            return [HeldGrant(r.role_name, Grant(parse_uri(r.uri), Action(r.action))) for r in rows]

    async def share(self, holder: str, grants: Sequence[Grant], roles: Collection[str]) -> None:
        """Puts the grants and makes `holder` a member of `roles`, all or nothing."""
        async with self._sessions.begin() as session:
            for grant in grants:
                await session.execute(
                    delete(PermissionGrantRow).where(
                        PermissionGrantRow.role_name == holder,
                        PermissionGrantRow.uri == str(grant.uri),
                    )
                )
                session.add(
                    PermissionGrantRow(role_name=holder, uri=str(grant.uri), action=grant.action)
                )
            for role in roles:
                await session.merge(RoleMembershipRow(member_name=holder, role_name=role))

    async def unshare(self, holder: str, uri: ResourceUri, role: str | None) -> bool:
        """Deletes the grant (and the membership in `role`); False when there was neither."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(PermissionGrantRow).where(
                    PermissionGrantRow.role_name == holder,
                    PermissionGrantRow.uri == str(uri),
                )
            )
            changed = bool(result.rowcount)  # type: ignore[attr-defined]
            if role is not None:
                result = await session.execute(
                    delete(RoleMembershipRow).where(
                        RoleMembershipRow.member_name == holder,
                        RoleMembershipRow.role_name == role,
                    )
                )
                changed = changed or bool(result.rowcount)  # type: ignore[attr-defined]
            return changed

    async def is_user(self, name: str) -> bool:
        async with self._sessions() as session:
            return await session.get(UserRow, name) is not None

    async def is_role(self, name: str) -> bool:
        async with self._sessions() as session:
            return await session.get(RoleRow, name) is not None

    async def add_role(self, name: str, created_by: str) -> None:
        try:
            async with self._sessions.begin() as session:
                # Users and roles share one namespace: a grant names either.
                if await session.get(UserRow, name) is not None:
                    raise RoleExistsError(f"a user named {name!r} exists")
                session.add(RoleRow(name=name, created_by=created_by, created_at=datetime.now(UTC)))
        except IntegrityError as e:
            raise RoleExistsError(f"role {name!r} exists already") from e

    async def subroles_of(self, name: str) -> list[str]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(RoleRow.name)
                .where(RoleRow.name.startswith(f"{name}/", autoescape=True))
                .order_by(RoleRow.name)
            )
            return list(rows)

    async def remove_role(self, name: str) -> None:
        """Removes the role, its subroles, their grants and memberships, and grants on them."""
        async with self._sessions.begin() as session:
            names = {name, *await self._subroles_in(session, name)}
            role_uri = ResourceUri("role", tuple(name.split("/")))
            await session.execute(delete(RoleRow).where(RoleRow.name.in_(names)))
            await session.execute(
                delete(PermissionGrantRow).where(
                    or_(PermissionGrantRow.role_name.in_(names), _within(role_uri))
                )
            )
            await session.execute(
                delete(RoleMembershipRow).where(
                    or_(
                        RoleMembershipRow.member_name.in_(names),
                        RoleMembershipRow.role_name.in_(names),
                    )
                )
            )

    @staticmethod
    async def _subroles_in(session: AsyncSession, name: str) -> list[str]:
        rows = await session.scalars(
            select(RoleRow.name).where(RoleRow.name.startswith(f"{name}/", autoescape=True))
        )
        return list(rows)


def _within(root: ResourceUri) -> ColumnElement[bool]:
    """The grant's URI is `root` or below it (stored URIs are normalised)."""
    text = str(root)
    if not root.parts:  # `storage:` is the whole scheme
        return PermissionGrantRow.uri.startswith(f"{root.scheme}:", autoescape=True)
    return or_(
        PermissionGrantRow.uri == text,
        PermissionGrantRow.uri.startswith(f"{text}/", autoescape=True),
    )
