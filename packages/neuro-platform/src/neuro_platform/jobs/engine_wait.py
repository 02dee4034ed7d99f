"""A start that waits in the engine's own queue (a Slurm job Slurm has not run yet): the
job's status history says why it waits, as it says why a job waits for the platform's room,
and its `schedule_timeout` ends that wait as it ends the other (scheduler.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ..orchestrator import ContainerState, JobReason, OrchestratorError
from .entities import Job, JobStatus, StatusItem
from .repository import JobRepository


class ScheduleTimeoutError(OrchestratorError):
    reason = JobReason.CLUSTER_SCALE_UP_FAILED


def schedule_timed_out(job: Job, now: datetime) -> ScheduleTimeoutError | None:
    """The error that ends a pending job waiting past its `schedule_timeout`, if it is."""
    timeout = job.spec.schedule_timeout
    if job.status is not JobStatus.PENDING or timeout is None:
        return None
    if now - job.created_at <= timedelta(seconds=timeout):
        return None
    return ScheduleTimeoutError(f"No room for the job within its schedule timeout of {timeout} s")


class EngineWait:
    """The `progress` of one start (orchestrator.StartProgress)."""

    def __init__(self, repository: JobRepository, job: Job) -> None:
        self._repository = repository
        self._job = job
        self._noted: tuple[str | None, str | None] | None = None

    async def __call__(self, state: ContainerState) -> None:
        if self._job.status is not JobStatus.PENDING:  # a restart: the job stays running
            return
        now = datetime.now(UTC)
        # Waiting for a node counts against the schedule timeout; fetching the image does not.
        if state.reason is JobReason.SCHEDULING and (error := schedule_timed_out(self._job, now)):
            raise error
        reason = state.reason or JobReason.SCHEDULING
        if (reason, state.message) == self._noted:
            return
        self._noted = (reason, state.message)
        item = StatusItem(JobStatus.PENDING, now, reason=reason, description=state.message)
        self._job = await self._repository.update(self._job.id, lambda j: _noted(j, item))


def _noted(job: Job, item: StatusItem) -> Job:
    """Adds `item` unless the job left PENDING or says the same already (Slurm's reason may
    change under one platform reason: Priority, then Resources)."""
    current = job.current
    if job.status is not JobStatus.PENDING or (current.reason, current.description) == (
        item.reason,
        item.description,
    ):
        return job
    return replace(job, statuses=(*job.statuses, item))
