"""The jobs service: domain rules of docs/protocol.md §3 (submit, list, get, kill, life span).

It records decisions in the database and wakes the scheduler; only the scheduler talks to the
orchestrator, so every effect on containers survives a platform restart.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from ..errors import NotFoundError
from ..orchestrator import JobReason
from ..permissions import Permission, PermissionDeniedError, PermissionService
from ..permissions.actions import Action
from ..permissions.uris import owned_uri, parse_uri
from ..presets import preset_named
from ..settings import Settings
from .capacity import ClusterNodes
from .entities import MIB, Job, JobStatus, StatusItem
from .job_images import JobImages
from .privileged import require_privileged
from .queries import ActiveLimitReachedError, JobNameTakenError, JobNotFoundError, JobQuery
from .quota import JobQuotas, QuotaExceededError
from .repository import FIRST_PAGE, PAGE, JobRepository
from .submission import Submission, SubmissionError
from .volume_access import VolumeAccess


class JobLookupError(NotFoundError):
    """No such job, or none the caller may see: 404 either way, so ids do not leak."""


@dataclass(frozen=True)
class JobFilter:
    query: JobQuery
    tags: frozenset[str] = frozenset()
    limit: int | None = None


class JobsService:
    def __init__(
        self,
        repository: JobRepository,
        permissions: PermissionService,
        settings: Settings,
        nodes: ClusterNodes,
        wake_scheduler: Callable[[], None],
        volume_access: VolumeAccess,
        images: JobImages,
        quotas: JobQuotas,
    ) -> None:
        self._quotas = quotas
        self._volume_access = volume_access
        self._images = images
        self._nodes = nodes
        self._repository = repository
        self._permissions = permissions
        self._settings = settings
        self._wake_scheduler = wake_scheduler

    async def submit(self, user: str, submission: Submission) -> Job:
        spec = submission.spec
        jobs_root = owned_uri("job", submission.cluster_name, user, submission.org_name)
        await self._permissions.require(
            user,
            [Permission(jobs_root, Action.WRITE)]
            + [
                Permission.of(v.src_storage_uri, Action.READ if v.read_only else Action.WRITE)
                for v in spec.container.volumes
            ],
        )
        if spec.privileged:
            await require_privileged(
                self._permissions, self._settings, user, submission.cluster_name
            )
        await self._images.require_runnable(user, spec.container.image)
        container = await self._volume_access.resolve(user, submission.cluster_name, spec.container)
        node = self._nodes.of(submission.cluster_name)
        if not node.fits(spec.container.resources):
            raise SubmissionError(
                f"The job needs more than the node has (cpu {node.cpu}, memory "
                f"{node.memory // MIB} MiB, gpu {node.gpu}): it could never start"
            )
        for volume in spec.container.volumes:
            if parse_uri(volume.src_storage_uri).parts[:1] != (submission.cluster_name,):
                raise SubmissionError("volumes must be in the job's cluster")
        if spec.name is not None and await self._repository.active_with_name(user, spec.name):
            raise _name_taken(spec.name)
        limits = await self._quotas.check_submission(
            submission.cluster_name, submission.org_name, user, spec.wait_for_jobs_quota
        )
        now = datetime.now(UTC)
        job = Job(
            id=f"job-{uuid.uuid4()}",
            owner=user,
            cluster_name=submission.cluster_name,
            org_name=submission.org_name,
            spec=spec if container is spec.container else replace(spec, container=container),
            created_at=now,
            statuses=(StatusItem(JobStatus.PENDING, now, reason=JobReason.CREATING),),
        )
        try:
            await self._volume_access.record(job, limits)
        except JobNameTakenError as taken:  # a submission of the name raced past the check
            raise _name_taken(str(taken)) from None
        except ActiveLimitReachedError as reached:  # ... or of the account, past its quota
            raise QuotaExceededError(reached.limit.refusal) from None
        self._wake_scheduler()
        return job

    async def list(self, user: str, job_filter: JobFilter) -> AsyncIterator[Job]:
        """`pages`, one job at a time."""
        pages = await self.pages(user, job_filter)

        async def jobs() -> AsyncIterator[Job]:
            async for page in pages:
                for job in page:
                    yield job

        return jobs()

    async def pages(self, user: str, job_filter: JobFilter) -> AsyncIterator[Sequence[Job]]:
        """The jobs the filter matches that the user may read, a page at a time as the
        database yields them (`JobRepository.pages`): the first page comes before the next
        is read. Tags and permissions are checked here, so a limit stops the reading once met.
        A page may be empty (none of its jobs matched)."""
        grants = await self._permissions.grant_set(user, {"job"})
        # Whether the user owns the tree of each (cluster, owner, org) met: every job in a
        # tree one owns is readable, without building and checking each job's URIs (most
        # of a listing's own jobs; the check runs on the event loop).
        owned_trees: dict[tuple[str, str, str | None], bool] = {}

        def readable(job: Job) -> bool:
            if job_filter.tags and not job_filter.tags <= set(job.spec.tags):
                return False
            tree = (job.cluster_name, job.owner, job.org_name)
            owned = owned_trees.get(tree)
            if owned is None:
                owned = owned_trees[tree] = grants.owns(owned_uri("job", *tree))
            return owned or any(grants.allows(uri, Action.READ) for uri in job.resource_uris)

        async def matching() -> AsyncIterator[Sequence[Job]]:
            left = job_filter.limit
            # A limit sizes the first read, up to a page: a huge limit is not one huge read.
            first_page = min(left, PAGE) if left is not None else FIRST_PAGE
            async for page in self._repository.pages(job_filter.query, first_page=first_page):
                found = [job for job in page if readable(job)]
                if left is not None:
                    found = found[:left]
                    left -= len(found)
                yield found
                if left == 0:
                    return

        return matching()

    @property
    def revision(self) -> int:
        """Changes whenever any job changes (the web console's ETags)."""
        return self._repository.revision

    async def get(self, user: str, id_or_name: str, action: Action = Action.READ) -> Job:
        """The job by id, or the caller's newest job of that name; `action` is required."""
        job = await self._find(user, id_or_name)
        uris = [uri for uri in (job.uri, job.named_uri) if uri is not None]
        missing = await self._permissions.check(user, [Permission.of(u, action) for u in uris])
        if len(missing) == len(uris):  # a grant on the id or on the name is enough
            raise PermissionDeniedError(missing[:1])
        return job

    async def by_host_label(self, label: str) -> Job:
        """The job behind `<job id>` or `<name>--<owner>` (host names and proxy paths)."""
        if label.startswith("job-"):
            try:
                return await self._repository.get(label)
            except JobNotFoundError:
                raise JobLookupError(f"Job {label!r} not found") from None
        name, sep, owner = label.partition("--")
        job = await self._repository.find_by_name(owner, name) if sep else None
        if job is None:
            raise JobLookupError(f"Job {label!r} not found")
        return job

    async def current(self, job: Job) -> Job:
        """The job as stored now (no permission check: the caller has already seen it)."""
        try:
            return await self._repository.get(job.id)
        except JobNotFoundError:
            raise JobLookupError(f"Job {job.id!r} not found") from None

    async def next_state(self, job: Job, timeout_s: float) -> Job:
        """The job once it has changed, or as stored after `timeout_s` at the latest."""
        try:
            return await self._repository.next_state(job, timeout_s)
        except JobNotFoundError:
            raise JobLookupError(f"Job {job.id!r} not found") from None

    async def kill(self, user: str, id_or_name: str) -> Job:
        job = await self.get(user, id_or_name, Action.WRITE)
        return await self.finish(job.id, JobStatus.CANCELLED, JobReason.USER_REQUESTED)

    async def finish(
        self, job_id: str, status: JobStatus, reason: str, description: str | None = None
    ) -> Job:
        """Records the end of a job; the scheduler then stops and removes its container."""
        now = datetime.now(UTC)

        def change(job: Job) -> Job:
            if job.is_finished:
                return job
            return job.with_status(StatusItem(status, now, reason=reason, description=description))

        job = await self._repository.update(job_id, change)
        self._wake_scheduler()
        return job

    async def retire_jobs_of(
        self, owner: str, created_before: datetime | None, retired_owner: str
    ) -> int:
        """The owner's account was removed: cancels their unfinished jobs and hands every
        job of theirs (created before the given time, if any) to `retired_owner`, a name no
        account can have, so a new account of the owner's name cannot see them, their logs
        or their names. Returns how many jobs it ended."""
        now = datetime.now(UTC)
        status = StatusItem(
            JobStatus.CANCELLED,
            now,
            reason=JobReason.USER_REMOVED,
            description=f"The user {owner} was removed",
        )

        def change(job: Job) -> Job:
            ended = job if job.is_finished else job.with_status(status)
            return replace(ended, owner=retired_owner)

        ended = 0
        for job in await self._repository.find(JobQuery(owners=[owner])):
            if created_before is None or job.created_at <= created_before:
                ended += not job.is_finished
                await self._repository.update(job.id, change)
        self._wake_scheduler()
        return ended

    async def bump_life_span(
        self, user: str, id_or_name: str, *, additional: int | None, absolute: int | None
    ) -> Job:
        if (additional is None) == (absolute is None):
            raise ValueError(
                "Exactly one of additional_max_run_time_minutes and max_run_time_minutes is needed"
            )
        for value in (additional, absolute):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError("minutes must be a positive integer")
        job = await self.get(user, id_or_name, Action.WRITE)
        if job.is_finished:
            raise ValueError(f"Job {job.id} has finished")

        def change(current: Job) -> Job:
            base = current.spec.max_run_time_minutes
            if absolute is not None:
                minutes = absolute
            elif base is None:  # an unlimited job stays unlimited
                return current
            else:
                minutes = base + (additional or 0)
            return replace(current, spec=replace(current.spec, max_run_time_minutes=minutes))

        updated = await self._repository.update(job.id, change)
        self._wake_scheduler()
        return updated

    def credits_per_hour(self, job: Job) -> Decimal:
        cluster = self._settings.cluster(job.cluster_name)
        if cluster is None or job.spec.preset_name is None:
            return Decimal("0")
        preset = preset_named(cluster.presets, job.spec.preset_name)
        return preset.credits_per_hour if preset is not None else Decimal("0")

    async def _find(self, user: str, id_or_name: str) -> Job:
        if id_or_name.startswith("job-"):
            try:
                return await self._repository.get(id_or_name)
            except JobNotFoundError:
                pass
        job = await self._repository.find_by_name(user, id_or_name)
        if job is None:
            raise JobLookupError(f"Job {id_or_name!r} not found")
        return job


def _name_taken(name: str) -> SubmissionError:
    return SubmissionError(f"You already have a running job named {name!r}")
