"""The admin API's rules (docs/protocol.md §2.7): who may see and change what.

Roles, per cluster (`admin_cluster_users`, outside any org) and per org (`admin_org_users`):

* a cluster **admin** does everything in that cluster: users, roles, quotas, credits, the
  cluster's org clusters; an admin of any cluster manages every org's users;
* a cluster **manager**, or an org **admin**/**manager** for that org, adds and removes
  users with the roles `member`/`user` and reads their accounts, but changes no quota or
  credits and hands out no managing role (else it could promote itself);
* everybody else (**member**, **user**) reads their own account and the org cluster
  figures of the org they work in (what `Users.get_quota` / `get_org_quota` ask).

Clusters and orgs themselves come from the server settings (`[[clusters]]`, `orgs`): the API
lists them and refuses to create or drop them. Credits are spent by jobs (see
`entities.Credits`); `spent` is asked from the jobs slice through `SpentCredits`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from ..auth.users import User, UserService
from ..settings import Settings
from .accounts import Accounts
from .entities import (
    MANAGER_GRANTABLE,
    ClusterRole,
    ClusterUser,
    Credits,
    OrgCluster,
    OrgRole,
    OrgUser,
    Quota,
)
from .errors import AdminExistsError, AdminForbiddenError, AdminNotFoundError
from .repository import AdminRepository

# (cluster, org, user or None for the whole org cluster) -> credits spent so far
SpentCredits = Callable[[str, str | None, str | None], Awaitable[Decimal]]

SETTINGS_ONLY = (
    "{what} are configured in the server settings ([[clusters]]), not through the admin API"
)


@dataclass(frozen=True)
class Balance:
    credits: Decimal | None  # what is left; None: unlimited
    spent_credits: Decimal


@dataclass(frozen=True)
class UserAccount:
    user: ClusterUser
    balance: Balance
    info: User | None = None


@dataclass(frozen=True)
class OrgAccount:
    org_cluster: OrgCluster
    balance: Balance


@dataclass(frozen=True)
class OrgMember:
    user: OrgUser
    info: User | None = None


@dataclass(frozen=True)
class QuotaChange:
    """A quota set (`value`) or moved by a delta (`delta`)."""

    value: Quota | None = None
    delta: int | None = None


@dataclass(frozen=True)
class CreditsChange:
    value: Decimal | None = None  # set to this (None with `unlimited`: unlimited)
    delta: Decimal | None = None
    unlimited: bool = False


class AdminService:
    def __init__(
        self,
        repository: AdminRepository,
        accounts: Accounts,
        users: UserService,
        settings: Settings,
        spent: SpentCredits,
    ) -> None:
        self._repository = repository
        self._accounts = accounts
        self._users = users
        self._settings = settings
        self._spent = spent

    # -- clusters and orgs (from the settings) ---------------------------------------------

    def clusters(self) -> list[str]:
        return [c.name for c in self._settings.clusters]

    def cluster(self, name: str) -> str:
        self._cluster(name)
        return name

    async def administered_clusters(self, caller: str) -> list[str]:
        """The clusters where `caller` is an admin (outside any org)."""
        return [
            name
            for name in self.clusters()
            if await self._cluster_role(caller, name) is ClusterRole.ADMIN
        ]

    @property
    def cluster_default_quota(self) -> Quota:
        return self._accounts.cluster_default_quota

    def orgs(self) -> list[str]:
        return sorted(self._settings.all_orgs)

    def org(self, name: str) -> str:
        if name not in self._settings.all_orgs:
            raise AdminNotFoundError(f"Org {name!r} not found")
        return name

    def refuse_settings_change(self, what: str) -> None:
        raise ValueError(SETTINGS_ONLY.format(what=what))

    # -- cluster users ---------------------------------------------------------------------

    async def cluster_users(
        self, caller: str, cluster: str, org: str | None, with_info: bool
    ) -> list[UserAccount]:
        self._scope(cluster, org)
        await self._require_manager(caller, cluster, org)
        return [
            await self._account(u, with_info)
            for u in await self._repository.cluster_users(cluster, org)
        ]

    async def cluster_user(
        self, caller: str, cluster: str, org: str | None, user: str, with_info: bool
    ) -> UserAccount:
        self._scope(cluster, org)
        if caller != user:
            await self._require_manager(caller, cluster, org)
        return await self._account(await self._accounts.cluster_user(cluster, org, user), with_info)

    async def add_cluster_user(
        self, caller: str, wanted: ClusterUser, credits: Decimal | None, with_info: bool
    ) -> UserAccount:
        cluster, org, name = wanted.cluster_name, wanted.org_name, wanted.user_name
        self._scope(cluster, org)
        admin = await self._require_manager(caller, cluster, org)
        changes_limits = wanted.quota != Quota() or credits is not None
        if not admin and (wanted.role not in MANAGER_GRANTABLE or changes_limits):
            raise AdminForbiddenError(
                "Only a cluster admin may give a managing role or set quotas and credits"
            )
        await self._require_user(name)
        if await self._repository.cluster_user(cluster, org, name) is not None:
            raise AdminExistsError(f"User {name!r} is already in cluster {cluster!r}")
        defaults = await self._accounts.cluster_user(cluster, org, name)
        user = replace(
            wanted,
            quota=wanted.quota if wanted.quota != Quota() else defaults.quota,
            credits=await self._set_credits(cluster, org, name, credits)
            if credits is not None
            else defaults.credits,
        )
        await self._repository.put_cluster_user(user)
        return await self._account(user, with_info)

    async def update_cluster_user(
        self, caller: str, wanted: ClusterUser, credits: CreditsChange | None, with_info: bool
    ) -> UserAccount:
        cluster, org, name = wanted.cluster_name, wanted.org_name, wanted.user_name
        self._scope(cluster, org)
        await self._require_user(name)
        admin = await self._require_manager(caller, cluster, org)
        current = await self._accounts.cluster_user(cluster, org, name)
        if not admin and (
            wanted.role not in MANAGER_GRANTABLE
            or current.role not in MANAGER_GRANTABLE
            or wanted.quota != current.quota
            or credits is not None
        ):
            raise AdminForbiddenError(
                "Only a cluster admin may change managing roles, quotas and credits"
            )
        user = replace(wanted, credits=current.credits)
        if credits is not None:
            user = replace(user, credits=await self._changed_credits(current, credits))
        await self._repository.put_cluster_user(user)
        return await self._account(user, with_info)

    async def remove_cluster_user(
        self, caller: str, cluster: str, org: str | None, user: str
    ) -> None:
        self._scope(cluster, org)
        admin = await self._require_manager(caller, cluster, org)
        current = await self._repository.cluster_user(cluster, org, user)
        if current is None:
            raise AdminNotFoundError(f"User {user!r} is not in cluster {cluster!r}")
        if not admin and current.role not in MANAGER_GRANTABLE:
            raise AdminForbiddenError("Only a cluster admin may remove an admin or a manager")
        await self._repository.delete_cluster_user(cluster, org, user)

    async def change_cluster_user(
        self,
        caller: str,
        cluster: str,
        org: str | None,
        user: str,
        *,
        quota: QuotaChange | None = None,
        credits: CreditsChange | None = None,
    ) -> UserAccount:
        self._scope(cluster, org)
        await self._require_admin(caller, cluster)
        await self._require_user(user)
        changed = await self._accounts.cluster_user(cluster, org, user)
        if quota is not None:
            changed = replace(changed, quota=_changed_quota(changed.quota, quota))
        if credits is not None:
            changed = replace(changed, credits=await self._changed_credits(changed, credits))
        await self._repository.put_cluster_user(changed)
        return await self._account(changed, False)

    # -- org users -------------------------------------------------------------------------

    async def org_users(self, caller: str, org: str, with_info: bool) -> list[OrgMember]:
        self.org(org)
        await self._require_org_manager(caller, org)
        return [await self._member(u, with_info) for u in await self._repository.org_users(org)]

    async def org_user(self, caller: str, org: str, user: str, with_info: bool) -> OrgMember:
        self.org(org)
        if caller != user:
            await self._require_org_manager(caller, org)
        found = await self._repository.org_user(org, user)
        if found is None:
            raise AdminNotFoundError(f"User {user!r} is not in org {org!r}")
        return await self._member(found, with_info)

    async def put_org_user(
        self, caller: str, wanted: OrgUser, with_info: bool, *, create: bool
    ) -> OrgMember:
        self.org(wanted.org_name)
        await self._require_user(wanted.user_name)
        current = await self._repository.org_user(wanted.org_name, wanted.user_name)
        if create and current is not None:
            raise AdminExistsError(
                f"User {wanted.user_name!r} is already in org {wanted.org_name!r}"
            )
        full = await self._require_org_manager(caller, wanted.org_name)
        roles = {wanted.role} | ({current.role} if current is not None else set())
        if not full and not roles <= MANAGER_GRANTABLE:
            raise AdminForbiddenError("Only an org admin may give or take a managing role")
        await self._repository.put_org_user(wanted)
        return await self._member(wanted, with_info)

    async def remove_org_user(self, caller: str, org: str, user: str) -> None:
        self.org(org)
        full = await self._require_org_manager(caller, org)
        current = await self._repository.org_user(org, user)
        if current is None:
            raise AdminNotFoundError(f"User {user!r} is not in org {org!r}")
        if not full and current.role not in MANAGER_GRANTABLE:
            raise AdminForbiddenError("Only an org admin may remove an admin or a manager")
        await self._repository.delete_org_user(org, user)

    # -- org clusters ----------------------------------------------------------------------

    async def org_clusters(self, caller: str, cluster: str) -> list[OrgAccount]:
        orgs = self._cluster(cluster)
        await self._require_admin(caller, cluster)
        return [await self._org_account(await self._accounts.org_cluster(cluster, o)) for o in orgs]

    async def org_cluster(self, caller: str, cluster: str, org: str) -> OrgAccount:
        # Any user of the cluster may read it: `neuro config show` prints the org's quota,
        # and the cluster's orgs are listed in /config for everybody anyway.
        self._scope(cluster, org)
        return await self._org_account(await self._accounts.org_cluster(cluster, org))

    async def put_org_cluster(
        self, caller: str, wanted: OrgCluster, credits: CreditsChange | None
    ) -> OrgAccount:
        cluster, org = wanted.cluster_name, wanted.org_name
        self._scope(cluster, org)
        await self._require_admin(caller, cluster)
        current = await self._accounts.org_cluster(cluster, org)
        changed = replace(wanted, credits=current.credits)
        if credits is not None:
            changed = replace(changed, credits=await self._changed_org_credits(current, credits))
        await self._repository.put_org_cluster(changed)
        return await self._org_account(changed)

    async def change_org_cluster(
        self,
        caller: str,
        cluster: str,
        org: str,
        *,
        quota: QuotaChange | None = None,
        credits: CreditsChange | None = None,
        defaults: tuple[Decimal | None, Quota, ClusterRole] | None = None,
    ) -> OrgAccount:
        self._scope(cluster, org)
        await self._require_admin(caller, cluster)
        changed = await self._accounts.org_cluster(cluster, org)
        if quota is not None:
            changed = replace(changed, quota=_changed_quota(changed.quota, quota))
        if credits is not None:
            changed = replace(changed, credits=await self._changed_org_credits(changed, credits))
        if defaults is not None:
            default_credits, default_quota, default_role = defaults
            changed = replace(
                changed,
                default_credits=default_credits,
                default_quota=default_quota,
                default_role=default_role,
            )
        await self._repository.put_org_cluster(changed)
        return await self._org_account(changed)

    # -- rules -----------------------------------------------------------------------------

    async def _require_admin(self, caller: str, cluster: str) -> None:
        if await self._cluster_role(caller, cluster) is not ClusterRole.ADMIN:
            raise AdminForbiddenError(f"Only an admin of cluster {cluster!r} may do this")

    async def _require_manager(self, caller: str, cluster: str, org: str | None) -> bool:
        """Allows admins and managers; True for an admin (who may do everything)."""
        role = await self._cluster_role(caller, cluster)
        if role is ClusterRole.ADMIN:
            return True
        if role is ClusterRole.MANAGER:
            return False
        if org is not None:
            member = await self._repository.org_user(org, caller)
            if member is not None and member.role in (OrgRole.ADMIN, OrgRole.MANAGER):
                return False
        raise AdminForbiddenError(
            f"Only an admin or a manager of cluster {cluster!r} may manage its users"
        )

    async def _require_org_manager(self, caller: str, org: str) -> bool:
        """Allows org admins and managers and cluster admins; True for those who may also
        hand out managing roles."""
        if any(
            u.role is ClusterRole.ADMIN and u.org_name is None
            for u in await self._repository.roles_of(caller)
        ):
            return True
        member = await self._repository.org_user(org, caller)
        if member is not None and member.role is OrgRole.ADMIN:
            return True
        if member is not None and member.role is OrgRole.MANAGER:
            return False
        raise AdminForbiddenError(f"Only an admin or a manager of org {org!r} may manage its users")

    async def _cluster_role(self, caller: str, cluster: str) -> ClusterRole | None:
        found = await self._repository.cluster_user(cluster, None, caller)
        return None if found is None else found.role

    def _cluster(self, name: str) -> tuple[str, ...]:
        """The cluster's orgs; 404 for an unknown cluster."""
        cluster = self._settings.cluster(name)
        if cluster is None:
            raise AdminNotFoundError(f"Cluster {name!r} not found")
        return tuple(o for o in cluster.orgs if o is not None)

    def _scope(self, cluster: str, org: str | None) -> None:
        if org is not None and org not in self._cluster(cluster):
            raise AdminNotFoundError(f"Org {org!r} not found in cluster {cluster!r}")
        self._cluster(cluster)

    async def _require_user(self, name: str) -> User:
        user = await self._users.get(name)
        if user is None:
            raise AdminNotFoundError(f"User {name!r} not found")
        return user

    async def _account(self, user: ClusterUser, with_info: bool) -> UserAccount:
        spent = await self._spent(user.cluster_name, user.org_name, user.user_name)
        info = await self._users.get(user.user_name) if with_info else None
        return UserAccount(user, Balance(user.credits.left(spent), spent), info)

    async def _member(self, user: OrgUser, with_info: bool) -> OrgMember:
        return OrgMember(user, await self._users.get(user.user_name) if with_info else None)

    async def _org_account(self, org_cluster: OrgCluster) -> OrgAccount:
        spent = await self._spent(org_cluster.cluster_name, org_cluster.org_name, None)
        return OrgAccount(org_cluster, Balance(org_cluster.credits.left(spent), spent))

    async def _set_credits(
        self, cluster: str, org: str | None, user: str | None, amount: Decimal
    ) -> Credits:
        return Credits(amount, await self._spent(cluster, org, user))

    async def _changed_credits(self, current: ClusterUser, change: CreditsChange) -> Credits:
        return await self._credits_after(
            current.credits, change, current.cluster_name, current.org_name, current.user_name
        )

    async def _changed_org_credits(self, current: OrgCluster, change: CreditsChange) -> Credits:
        return await self._credits_after(
            current.credits, change, current.cluster_name, current.org_name, None
        )

    async def _credits_after(
        self,
        credits: Credits,
        change: CreditsChange,
        cluster: str,
        org: str | None,
        user: str | None,
    ) -> Credits:
        if change.unlimited:
            return Credits()
        if change.value is not None:
            return await self._set_credits(cluster, org, user, change.value)
        assert change.delta is not None
        if credits.amount is None:
            raise ValueError("The credits are unlimited: set an amount before adding to it")
        return replace(credits, amount=credits.amount + change.delta)


def _changed_quota(quota: Quota, change: QuotaChange) -> Quota:
    if change.value is not None:
        return change.value
    assert change.delta is not None
    if quota.total_running_jobs is None:
        raise ValueError("The jobs quota is unlimited: set it before adding to it")
    total = quota.total_running_jobs + change.delta
    if total < 0:
        raise ValueError("The jobs quota cannot go below 0")
    return Quota(total)
