"""The scheduling queue's walk of waiting jobs (`jobs/scheduling_queue.py`): placement order per
cluster, and jobs parked behind a full node left out of later walks until something about
them changes, so that a pass costs what changed and not the backlog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neuro_platform.jobs.entities import (
    MIB,
    Container,
    Job,
    JobPriority,
    JobSpec,
    JobStatus,
    Resources,
    StatusItem,
)
from neuro_platform.jobs.repository import JobRepository
from neuro_platform.jobs.scheduling_queue import SchedulingQueue

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def _pending(
    n: int,
    *,
    cluster: str = "default",
    priority: JobPriority = JobPriority.NORMAL,
    schedule_timeout: float | None = None,
) -> Job:
    when = BASE + timedelta(seconds=n)
    container = Container(image="busybox", resources=Resources(cpu=0.1, memory=64 * MIB))
    return Job(
        id=f"job-{n:06d}",
        owner="alice",
        cluster_name=cluster,
        org_name=None,
        spec=JobSpec(container, priority=priority, schedule_timeout=schedule_timeout),
        created_at=when,
        statuses=(StatusItem(JobStatus.PENDING, when),),
    )


async def _queue_of(
    sessions: async_sessionmaker[AsyncSession], jobs: list[Job]
) -> tuple[JobRepository, SchedulingQueue]:
    repository = JobRepository(sessions)
    queue = SchedulingQueue(repository)
    await queue.load()
    for job in jobs:
        await repository.insert(job)
    return repository, queue


def _walk_ids(queue: SchedulingQueue, cluster: str, *, full_after: int | None = None) -> list[str]:
    """The ids a walk yields; with `full_after`, the node is full from that job on, and every
    job after it that the walk still yields is parked (as the scheduler parks them)."""
    walk = queue.walk(cluster)
    ids = []
    for job in walk:
        if walk.is_full:
            queue.park(job)
        ids.append(job.id)
        if len(ids) == full_after:
            walk.full()
    return ids


async def test_a_walk_is_in_priority_then_submission_order_per_cluster(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, high, other = _pending(1), _pending(2, priority=JobPriority.HIGH), _pending(3)
    elsewhere = _pending(4, cluster="second")
    _, queue = await _queue_of(sessions, [first, high, other, elsewhere])
    assert sorted(queue.clusters()) == ["default", "second"]
    assert _walk_ids(queue, "default") == [high.id, first.id, other.id]
    assert _walk_ids(queue, "second") == [elsewhere.id]
    assert [job.id for job in queue.walk("default", skip={first.id})] == [high.id, other.id]


async def test_jobs_parked_behind_a_full_node_are_left_out_until_they_change(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    jobs = [_pending(n) for n in range(1, 7)]
    repository, queue = await _queue_of(sessions, jobs)
    ids = [job.id for job in jobs]
    # The node is full at the second job: the four behind it are parked.
    assert _walk_ids(queue, "default", full_after=2) == ids
    # The next walk of a full node looks at the first two only: not at the backlog.
    assert _walk_ids(queue, "default", full_after=2) == ids[:2]
    # Room came back: a walk that does not fill the node again reaches the parked jobs.
    assert _walk_ids(queue, "default") == ids

    # A commit puts a parked job back in the walk, and so does a new job.
    later = _pending(7)
    await repository.insert(later)
    killed = StatusItem(JobStatus.CANCELLED, datetime.now(UTC))
    await repository.update(ids[3], lambda j: j.with_status(killed))  # leaves the queue
    noted = StatusItem(JobStatus.PENDING, datetime.now(UTC), reason="Scheduling")
    await repository.update(ids[4], lambda j: j.with_status(noted))
    assert _walk_ids(queue, "default", full_after=2) == [*ids[:2], ids[4], later.id]
    assert _walk_ids(queue, "default", full_after=2) == ids[:2]


async def test_a_parked_job_whose_schedule_timeout_is_due_is_walked_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    blocker, patient, impatient = _pending(1), _pending(2), _pending(3, schedule_timeout=60.0)
    _, queue = await _queue_of(sessions, [blocker, patient, impatient])
    _walk_ids(queue, "default", full_after=1)
    queue.unpark_due(impatient.created_at + timedelta(seconds=59))
    assert _walk_ids(queue, "default", full_after=1) == [blocker.id]
    queue.unpark_due(impatient.created_at + timedelta(seconds=61))
    assert _walk_ids(queue, "default", full_after=1) == [blocker.id, impatient.id]


async def test_a_job_that_changed_after_the_walk_read_it_is_not_parked(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The hostile order: a commit lands between the walk's read and the park."""
    blocker, behind = _pending(1), _pending(2)
    repository, queue = await _queue_of(sessions, [blocker, behind])
    walk = queue.walk("default")
    assert next(walk).id == blocker.id
    walk.full()
    stale = next(walk)
    noted = StatusItem(JobStatus.PENDING, datetime.now(UTC), reason="Scheduling")
    await repository.update(behind.id, lambda j: j.with_status(noted))
    queue.park(stale)  # the walk's copy is older than the queue's: not parked
    assert _walk_ids(queue, "default", full_after=1) == [blocker.id, behind.id]
