"""Admin API rows: cluster users, org users and org clusters. A missing row means the
defaults (the service knows them); rows are written whole."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .entities import (
    NO_ORG,
    ClusterRole,
    ClusterUser,
    Credits,
    OrgCluster,
    OrgRole,
    OrgUser,
    Quota,
)
from .models import ClusterUserRow, OrgClusterRow, OrgUserRow


class AdminRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # -- cluster users ---------------------------------------------------------------------

    async def cluster_user(self, cluster: str, org: str | None, user: str) -> ClusterUser | None:
        async with self._sessions() as session:
            row = await session.get(ClusterUserRow, (cluster, org or NO_ORG, user))
            return None if row is None else _cluster_user(row)

    async def cluster_users(self, cluster: str, org: str | None) -> list[ClusterUser]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ClusterUserRow)
                .where(
                    ClusterUserRow.cluster_name == cluster,
                    ClusterUserRow.org_name == (org or NO_ORG),
                )
                .order_by(ClusterUserRow.user_name)
            )
            return [_cluster_user(r) for r in rows]

    async def all_cluster_users(self) -> list[ClusterUser]:
        async with self._sessions() as session:
            return [_cluster_user(r) for r in await session.scalars(select(ClusterUserRow))]

    async def roles_of(self, user: str) -> list[ClusterUser]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ClusterUserRow).where(ClusterUserRow.user_name == user)
            )
            return [_cluster_user(r) for r in rows]

    async def put_cluster_user(self, user: ClusterUser) -> None:
        async with self._sessions.begin() as session:
            await session.merge(
                ClusterUserRow(
                    cluster_name=user.cluster_name,
                    org_name=user.org_name or NO_ORG,
                    user_name=user.user_name,
                    role=user.role.value,
                    max_running_jobs=user.quota.total_running_jobs,
                    credits=_amount(user.credits.amount),
                    spent_at_set=str(user.credits.spent_at_set),
                )
            )

    async def delete_cluster_user(self, cluster: str, org: str | None, user: str) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ClusterUserRow).where(
                    ClusterUserRow.cluster_name == cluster,
                    ClusterUserRow.org_name == (org or NO_ORG),
                    ClusterUserRow.user_name == user,
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- org users -------------------------------------------------------------------------

    async def org_user(self, org: str, user: str) -> OrgUser | None:
        async with self._sessions() as session:
            row = await session.get(OrgUserRow, (org, user))
            return None if row is None else _org_user(row)

    async def org_users(self, org: str) -> list[OrgUser]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(OrgUserRow).where(OrgUserRow.org_name == org).order_by(OrgUserRow.user_name)
            )
            return [_org_user(r) for r in rows]

    async def put_org_user(self, user: OrgUser) -> None:
        async with self._sessions.begin() as session:
            await session.merge(
                OrgUserRow(org_name=user.org_name, user_name=user.user_name, role=user.role.value)
            )

    async def delete_org_user(self, org: str, user: str) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(OrgUserRow).where(OrgUserRow.org_name == org, OrgUserRow.user_name == user)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- org clusters ----------------------------------------------------------------------

    async def org_cluster(self, cluster: str, org: str) -> OrgCluster | None:
        async with self._sessions() as session:
            row = await session.get(OrgClusterRow, (cluster, org))
            return None if row is None else _org_cluster(row)

    async def all_org_clusters(self) -> list[OrgCluster]:
        async with self._sessions() as session:
            return [_org_cluster(r) for r in await session.scalars(select(OrgClusterRow))]

    async def put_org_cluster(self, org_cluster: OrgCluster) -> None:
        async with self._sessions.begin() as session:
            await session.merge(
                OrgClusterRow(
                    cluster_name=org_cluster.cluster_name,
                    org_name=org_cluster.org_name,
                    max_running_jobs=org_cluster.quota.total_running_jobs,
                    credits=_amount(org_cluster.credits.amount),
                    spent_at_set=str(org_cluster.credits.spent_at_set),
                    default_credits=_amount(org_cluster.default_credits),
                    default_max_running_jobs=org_cluster.default_quota.total_running_jobs,
                    default_role=org_cluster.default_role.value,
                    storage_size=org_cluster.storage_size,
                )
            )


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _cluster_user(row: ClusterUserRow) -> ClusterUser:
    return ClusterUser(
        cluster_name=row.cluster_name,
        user_name=row.user_name,
        org_name=row.org_name or None,
        role=ClusterRole(row.role),
        quota=Quota(row.max_running_jobs),
        credits=Credits(_decimal(row.credits), Decimal(row.spent_at_set)),
    )


def _org_user(row: OrgUserRow) -> OrgUser:
    return OrgUser(org_name=row.org_name, user_name=row.user_name, role=OrgRole(row.role))


def _org_cluster(row: OrgClusterRow) -> OrgCluster:
    return OrgCluster(
        cluster_name=row.cluster_name,
        org_name=row.org_name,
        quota=Quota(row.max_running_jobs),
        credits=Credits(_decimal(row.credits), Decimal(row.spent_at_set)),
        default_credits=_decimal(row.default_credits),
        default_quota=Quota(row.default_max_running_jobs),
        default_role=ClusterRole(row.default_role),
        storage_size=row.storage_size,
    )
