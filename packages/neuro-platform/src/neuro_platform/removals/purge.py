"""Removing a user account: everything in the database at once, in one transaction.

What goes: the account row, its refresh tokens and authorization codes, its secrets, its
service accounts (their tokens stop working with the rows, see `RoleTokens`), the roles below
its name (`alice/team`, `alice/service-accounts/ci`), every grant they hold, every grant anyone
holds on the user's trees (so a share to bob is gone), and every membership of or in them. So a
new account of the same name starts empty. Jobs and disks belong to the running server (its
scheduler, its mounts): a `user_removals` row asks it to end and destroy them
(`removals/sweeper.py`). The storage folders are kept for the operator, moved out of the
user namespace (`removed_storage_folder`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from ..admin_api.models import ClusterUserRow, OrgUserRow
from ..auth.users import UserNotFoundError
from ..db.models import (
    AuthorizationCodeRow,
    PermissionGrantRow,
    RefreshTokenRow,
    RoleMembershipRow,
    RoleRow,
    UserRow,
)
from ..disks.models import DiskRow
from ..jobs.entities import ACTIVE_STATUSES
from ..jobs.models import JobRow
from ..permissions.rules import owner_roots
from ..permissions.uris import parse_uri
from ..secrets.models import SecretRow
from ..service_accounts.models import ServiceAccountRow
from .models import UserRemovalRow

# Below each cluster's storage root; a dot cannot start a user or org name, so no account's
# tree is ever in here.
REMOVED_STORAGE_FOLDER = ".removed-users"


@dataclass(frozen=True)
class RemovedRecords:
    """What one removal took out of the database, and what it left for the server."""

    removal_id: int
    removed_at: datetime
    secrets: int
    service_accounts: tuple[str, ...]  # their role names
    roles: int  # including the service accounts' roles
    grants: int  # held by the user and its roles, or on the user's trees
    memberships: int
    refresh_tokens: int
    unfinished_jobs: int
    disks: int


async def purge_user(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    *,
    clusters: Iterable[str],
    orgs: Iterable[str],
) -> RemovedRecords:
    roots = owner_roots(name, clusters, orgs)
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        if await session.get(UserRow, name) is None:
            raise UserNotFoundError(f"user {name!r} does not exist")
        service_accounts = tuple(
            await session.scalars(
                select(ServiceAccountRow.role).where(ServiceAccountRow.owner == name)
            )
        )
        # Grants are few next to files; deciding "on the user's tree" in Python keeps the
        # rule in one place (`owner_roots`, `ResourceUri.covers`).
        grants = [
            row.id
            for row in await session.scalars(select(PermissionGrantRow))
            if _is_principal(row.role_name, name)
            or any(root.covers(parse_uri(row.uri)) for root in roots)
        ]
        removal = UserRemovalRow(user_name=name, removed_at=now)
        session.add(removal)
        records = RemovedRecords(
            removal_id=0,
            removed_at=now,
            secrets=await _delete(session, SecretRow, SecretRow.owner == name),
            service_accounts=service_accounts,
            roles=await _delete(session, RoleRow, _principal(RoleRow.name, name)),
            grants=await _delete(session, PermissionGrantRow, PermissionGrantRow.id.in_(grants)),
            memberships=await _delete(
                session,
                RoleMembershipRow,
                or_(
                    _principal(RoleMembershipRow.member_name, name),
                    _principal(RoleMembershipRow.role_name, name),
                ),
            ),
            refresh_tokens=await _delete(
                session, RefreshTokenRow, RefreshTokenRow.user_name == name
            ),
            unfinished_jobs=await _count(
                session,
                select(func.count())
                .select_from(JobRow)
                .where(JobRow.owner == name, JobRow.status.in_(list(ACTIVE_STATUSES))),
            ),
            disks=await _count(
                session, select(func.count()).select_from(DiskRow).where(DiskRow.owner == name)
            ),
        )
        await _delete(session, ServiceAccountRow, ServiceAccountRow.owner == name)
        # Admin API roles and quotas: a new account of the name must not inherit an admin role.
        await _delete(session, ClusterUserRow, ClusterUserRow.user_name == name)
        await _delete(session, OrgUserRow, OrgUserRow.user_name == name)
        await _delete(session, AuthorizationCodeRow, AuthorizationCodeRow.user_name == name)
        await _delete(session, UserRow, UserRow.name == name)
        await session.flush()
        return replace(records, removal_id=removal.id)


def removed_storage_folder(storage_root: Path, name: str, when: datetime) -> Path:
    """Where a removed user's storage folder is kept: unreachable for a new account."""
    stamp = when.strftime("%Y%m%dT%H%M%S.%fZ")
    return storage_root / REMOVED_STORAGE_FOLDER / f"{name}.{stamp}"


def move_storage_folders(
    cluster_roots: Iterable[Path], orgs: Iterable[str], name: str, when: datetime
) -> list[Path]:
    """Moves `<root>/[<org>/]<name>` of every cluster aside; returns the new places.

    Kept, not deleted: removing an account must not silently destroy data the operator may
    still want (it is one `rm -r` away), and a rename is instant whatever the size.
    """
    moved = []
    org_list = list(orgs)
    for root in cluster_roots:
        for prefix in (None, *org_list):
            source = root / prefix / name if prefix else root / name
            if not source.is_dir():
                continue
            target = removed_storage_folder(root, name, when)
            if prefix:
                target = target.with_name(f"{target.name}.{prefix}")
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.rename(source, target)
            moved.append(target)
    return moved


def _is_principal(role_name: str, name: str) -> bool:
    return role_name == name or role_name.startswith(f"{name}/")


def _principal(column: InstrumentedAttribute[str], name: str) -> ColumnElement[bool]:
    """The user itself or a role below its name (`alice/team`, `alice/service-accounts/x`)."""
    return or_(column == name, column.startswith(f"{name}/", autoescape=True))


async def _delete(session: AsyncSession, model: type, condition: ColumnElement[bool]) -> int:
    result = await session.execute(delete(model).where(condition))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def _count(session: AsyncSession, query: object) -> int:
    return int(await session.scalar(query) or 0)  # type: ignore[call-overload]
