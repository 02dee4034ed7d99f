"""The accounts the quota rules apply to, defaults filled in: one rule for the admin API's
answers and for the scheduler.

A user without a row of their own in a cluster is a `user` there (every user may use every
configured cluster) with the defaults: in an org, the org cluster's default quota, role and
credits; outside one, the cluster's (`[jobs] max_running_jobs_per_user`, unlimited
credits). An org cluster without a row has no limits.

Working in an org takes membership, though: a user is in an org on a cluster as one of the
org's users (`orgs/{org}/users`, on every cluster of the org) or as a cluster user of the org
there (`clusters/{cluster}/users` with `org_name`).
"""

from __future__ import annotations

from ..settings import Settings
from .entities import ClusterRole, ClusterUser, Credits, OrgCluster, Quota
from .repository import AdminRepository


class Accounts:
    def __init__(self, repository: AdminRepository, settings: Settings) -> None:
        self._repository = repository
        self._settings = settings

    @property
    def cluster_default_quota(self) -> Quota:
        return Quota(self._settings.jobs.max_running_jobs_per_user)

    async def cluster_user(self, cluster: str, org: str | None, user: str) -> ClusterUser:
        found = await self._repository.cluster_user(cluster, org, user)
        if found is not None:
            return found
        return self.default_user(cluster, org, user, await self.org_cluster_or_none(cluster, org))

    def default_user(
        self, cluster: str, org: str | None, user: str, org_cluster: OrgCluster | None
    ) -> ClusterUser:
        if org_cluster is not None:
            return ClusterUser(
                cluster_name=cluster,
                user_name=user,
                org_name=org,
                role=org_cluster.default_role,
                quota=org_cluster.default_quota,
                credits=Credits(org_cluster.default_credits),
            )
        return ClusterUser(
            cluster_name=cluster,
            user_name=user,
            org_name=org,
            role=ClusterRole.USER,
            quota=self.cluster_default_quota,
            credits=Credits(),
        )

    async def is_member(self, cluster: str, org: str | None, user: str) -> bool:
        """Whether `user` may work in `org` on `cluster` (anyone may outside an org)."""
        if org is None or await self._repository.org_user(org, user) is not None:
            return True
        return await self._repository.cluster_user(cluster, org, user) is not None

    async def org_cluster_or_none(self, cluster: str, org: str | None) -> OrgCluster | None:
        if org is None:
            return None
        return await self._repository.org_cluster(cluster, org)

    async def org_cluster(self, cluster: str, org: str) -> OrgCluster:
        found = await self._repository.org_cluster(cluster, org)
        return found if found is not None else unlimited_org_cluster(cluster, org)


def unlimited_org_cluster(cluster: str, org: str) -> OrgCluster:
    return OrgCluster(cluster_name=cluster, org_name=org, quota=Quota(), credits=Credits())
