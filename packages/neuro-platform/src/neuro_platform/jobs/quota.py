"""The jobs quota rule (docs/protocol.md §2.7, §3.1): per-user and per-org limits of
running jobs and of credits, which running jobs spend (run time x their preset's
`credits_per_hour`).

Asked in two places, always through this module:

* at submission, first: a job in an org the owner is not a member of there
  (`Accounts.is_member`) is refused (403 "User is not allowed to submit jobs to the
  specified org", by analogy with the original's answer for a cluster, docs/protocol.md §3.1);
* at submission (`JobsService.submit`): with no credits left, the job is refused (400 "No
  credits left for user 'alice'"); over the jobs limit (counting pending, suspended and
  running jobs) too (400 "Jobs limit quota exceeded for user 'alice'"), unless the client
  asked to wait (`wait_for_jobs_quota`), as the original platform does. That count is the
  repository's, in the transaction that records the job (`ActiveLimit`);
* by the scheduler, for every waiting job (`Scheduler._place` through `QuotaLedger`): a job
  whose owner or org is at its limit of running jobs, or has no credits left, stays
  pending with reason `QuotaExhausted` until that changes;
* by the scheduler, for every running (or starting) job, through the same per-pass ledger:
  once its owner or org has no credits left, the job is cancelled with reason
  `QuotaExhausted`, as the original platform stops them. Each account's limits are read at
  most once per pass, and only for accounts with a job in play: no scan of all jobs.

Jobs count against the cluster user (cluster, org, owner) and, in an org, against the org
cluster (cluster, org) as well.

The accounts (membership, cluster user, org cluster) are read through a `PrincipalCache`:
every submission asks for them, and they change only through the admin API, whose commits
this process sees at once (their tables are among `WATCHED_TABLES`); another server's commits
are announced or expire with the cache's TTL, as for permissions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from ..admin_api.accounts import Accounts
from ..admin_api.entities import ClusterUser, OrgCluster
from ..errors import RefusedError
from ..permissions.cache import PrincipalCache
from ..presets import preset_named
from ..settings import Settings
from .entities import ACTIVE_STATUSES, Job
from .queries import ActiveLimit, JobQuery
from .repository import JobRepository

SECONDS_PER_HOUR = Decimal(3600)


class QuotaExceededError(ValueError):
    """Refused at submission (400 `{"error"}`), in the original's words."""


class NotOrgMemberError(RefusedError):
    """A job in an org its owner is not a member of (403 `{"error"}`)."""


@dataclass(frozen=True)
class _Limits:
    user_jobs: int | None
    org_jobs: int | None
    # The account whose credits are spent ("user 'bob'", "org 'acme'"), or None.
    out_of_credits: str | None


UserKey = tuple[str, str | None, str]  # cluster, org, owner
OrgKey = tuple[str, str]  # cluster, org


class JobQuotas:
    def __init__(self, accounts: Accounts, jobs: JobRepository, settings: Settings) -> None:
        self._accounts = accounts
        self._jobs = jobs
        self._settings = settings
        self._members: PrincipalCache[tuple[str, str | None, str], bool] = PrincipalCache()
        self._users: PrincipalCache[UserKey, ClusterUser] = PrincipalCache()
        self._orgs: PrincipalCache[OrgKey, OrgCluster] = PrincipalCache()

    async def spent(self, cluster: str, org: str | None, user: str | None) -> Decimal:
        """Credits spent so far by the jobs of a cluster user (`user`), or of an org cluster
        (`user` None)."""
        found = await self._jobs.find(
            JobQuery(
                owners=[user] if user is not None else (),
                cluster_name=cluster,
                org_name=org,
                filter_org=True,
            )
        )
        return self.cost(found, datetime.now(UTC))

    def cost(self, jobs: Iterable[Job], now: datetime) -> Decimal:
        total = Decimal(0)
        for job in jobs:
            cluster = self._settings.cluster(job.cluster_name)
            if cluster is None or job.spec.preset_name is None:
                continue  # jobs without a preset have no price, as in the original
            preset = preset_named(cluster.presets, job.spec.preset_name)
            if preset is None or not preset.credits_per_hour:
                continue
            seconds = Decimal(job.run_time(now).total_seconds())
            total += Decimal(preset.credits_per_hour) * seconds / SECONDS_PER_HOUR
        return total

    async def check_submission(
        self, cluster: str, org: str | None, owner: str, wait_for_jobs_quota: bool
    ) -> list[ActiveLimit]:
        """Refuses a submission its membership or credits refuse; returns the limits of
        unfinished jobs its insert is to hold to (the repository counts them in the
        transaction that records the job: counted here, racing submissions would each
        see the same room)."""
        if not await self._is_member(cluster, org, owner):
            raise NotOrgMemberError("User is not allowed to submit jobs to the specified org")
        limits: list[ActiveLimit] = []
        user = await self._cluster_user(cluster, org, owner)
        if not wait_for_jobs_quota and user.quota.total_running_jobs is not None:
            limits.append(
                ActiveLimit(
                    account=f"user {cluster}/{org}/{owner}",
                    query=JobQuery(
                        statuses=ACTIVE_STATUSES,
                        owners=[owner],
                        cluster_name=cluster,
                        org_name=org,
                        filter_org=True,
                    ),
                    most=user.quota.total_running_jobs,
                    refusal=f"Jobs limit quota exceeded for user '{owner}'",
                )
            )
        if await self._out_of_credits_user(cluster, org, owner):
            raise QuotaExceededError(f"No credits left for user '{owner}'")
        if org is None:
            return limits
        org_cluster = await self._org_cluster(cluster, org)
        if not wait_for_jobs_quota and org_cluster.quota.total_running_jobs is not None:
            limits.append(
                ActiveLimit(
                    account=f"org {cluster}/{org}",
                    query=JobQuery(
                        statuses=ACTIVE_STATUSES,
                        cluster_name=cluster,
                        org_name=org,
                        filter_org=True,
                    ),
                    most=org_cluster.quota.total_running_jobs,
                    refusal=f"Jobs limit quota exceeded for org '{org}'",
                )
            )
        if await self._out_of_credits_org(cluster, org):
            raise QuotaExceededError(f"No credits left for org '{org}'")
        return limits

    def ledger(self, in_play: Iterable[Job]) -> QuotaLedger:
        """What the scheduler needs for one placement pass: the jobs that hold a place now
        (running or starting); each account's limits are read when a job of it is reached."""
        return QuotaLedger(self._limits, in_play)

    async def _limits(self, key: UserKey) -> _Limits:
        cluster, org, owner = key
        user = await self._cluster_user(cluster, org, owner)
        org_jobs = None
        out = f"user '{owner}'" if await self._out_of_credits_user(cluster, org, owner) else None
        if org is not None:
            org_cluster = await self._org_cluster(cluster, org)
            org_jobs = org_cluster.quota.total_running_jobs
            if out is None and await self._out_of_credits_org(cluster, org):
                out = f"org '{org}'"
        return _Limits(user.quota.total_running_jobs, org_jobs, out)

    async def _out_of_credits_user(self, cluster: str, org: str | None, owner: str) -> bool:
        credits = (await self._cluster_user(cluster, org, owner)).credits
        if credits.amount is None:
            return False
        left = credits.left(await self.spent(cluster, org, owner))
        return left is not None and left <= 0

    async def _out_of_credits_org(self, cluster: str, org: str) -> bool:
        credits = (await self._org_cluster(cluster, org)).credits
        if credits.amount is None:
            return False
        left = credits.left(await self.spent(cluster, org, None))
        return left is not None and left <= 0

    async def _is_member(self, cluster: str, org: str | None, owner: str) -> bool:
        key = (cluster, org, owner)
        return await self._members.get(key, lambda: self._accounts.is_member(*key))

    async def _cluster_user(self, cluster: str, org: str | None, owner: str) -> ClusterUser:
        key = (cluster, org, owner)
        return await self._users.get(key, lambda: self._accounts.cluster_user(*key))

    async def _org_cluster(self, cluster: str, org: str) -> OrgCluster:
        key = (cluster, org)
        return await self._orgs.get(key, lambda: self._accounts.org_cluster(*key))


class QuotaLedger:
    """Counts places taken during one pass: `admits(job)` before starting it, `take(job)`
    when it starts, `release(job)` when one is suspended."""

    def __init__(
        self, limits_of: Callable[[UserKey], Awaitable[_Limits]], in_play: Iterable[Job]
    ) -> None:
        # Read on demand, once per account and pass: the queue a pass walks may gain jobs
        # of accounts nobody had when the pass began.
        self._limits_of = limits_of
        self._limits: dict[UserKey, _Limits] = {}
        self._users: Counter[UserKey] = Counter()
        self._orgs: Counter[OrgKey] = Counter()
        for job in in_play:
            self.take(job)

    async def out_of_credits(self, job: Job) -> str | None:
        """The account of `job` that has no credits left ("user 'bob'"), if any."""
        return (await self._limits_for(job)).out_of_credits

    async def admits(self, job: Job) -> bool:
        key = _user_key(job)
        limits = await self._limits_for(job)
        if limits.out_of_credits is not None:
            return False
        if limits.user_jobs is not None and self._users[key] >= limits.user_jobs:
            return False
        org_key = _org_key(job)
        return not (
            org_key is not None
            and limits.org_jobs is not None
            and self._orgs[org_key] >= limits.org_jobs
        )

    async def _limits_for(self, job: Job) -> _Limits:
        key = _user_key(job)
        if key not in self._limits:
            self._limits[key] = await self._limits_of(key)
        return self._limits[key]

    def take(self, job: Job) -> None:
        self._users[_user_key(job)] += 1
        if (org_key := _org_key(job)) is not None:
            self._orgs[org_key] += 1

    def release(self, job: Job) -> None:
        self._users[_user_key(job)] -= 1
        if (org_key := _org_key(job)) is not None:
            self._orgs[org_key] -= 1


def _user_key(job: Job) -> UserKey:
    return (job.cluster_name, job.org_name, job.owner)


def _org_key(job: Job) -> OrgKey | None:
    return None if job.org_name is None else (job.cluster_name, job.org_name)
