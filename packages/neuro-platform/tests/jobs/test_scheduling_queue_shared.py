"""The scheduling queue where several processes write one PostgreSQL database: a pass reads
only the rows changed since the last one (`JobRepository.scheduling_changes`), and misses none,
even those of a transaction that commits after a later one (`jobs/scheduling_queue.py`).

"Another process" is another engine on the same database with its own repository, as a
second `serve` has."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neuro_platform.db.engine import create_engine, create_session_factory
from neuro_platform.jobs import scheduling_queue
from neuro_platform.jobs.entities import (
    MIB,
    Container,
    Job,
    JobSpec,
    JobStatus,
    Resources,
    StatusItem,
)
from neuro_platform.jobs.models import JobRow
from neuro_platform.jobs.repository import JobRepository, _row_values
from neuro_platform.jobs.scheduling_queue import SchedulingQueue

POSTGRES_URL_ENV = "NEURO_TEST_POSTGRES_URL"
BASE = datetime(2026, 1, 1, tzinfo=UTC)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get(POSTGRES_URL_ENV), reason="needs PostgreSQL"),
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


def _pending(n: int) -> Job:
    when = BASE + timedelta(seconds=n)
    spec = JobSpec(Container(image="busybox", resources=Resources(cpu=0.1, memory=64 * MIB)))
    return Job(
        id=f"job-{n:06d}",
        owner="alice",
        cluster_name="default",
        org_name=None,
        spec=spec,
        created_at=when,
        statuses=(StatusItem(JobStatus.PENDING, when),),
    )


def _ids(jobs: Iterable[Job]) -> list[str]:
    return [job.id for job in jobs]


@pytest.fixture
async def other_sessions(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of "another process": an engine of their own (`sessions` migrated the base)."""
    engine = create_engine(database_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _loaded_queue(sessions: async_sessionmaker[AsyncSession]) -> SchedulingQueue:
    queue = SchedulingQueue(JobRepository(sessions, cached=False))  # as composition on PostgreSQL
    await queue.load()
    return queue


async def test_jobs_another_process_submits_and_finishes_come_and_go(
    sessions: async_sessionmaker[AsyncSession],
    other_sessions: async_sessionmaker[AsyncSession],
) -> None:
    queue = await _loaded_queue(sessions)
    theirs = JobRepository(other_sessions, cached=False)
    job, killed = _pending(1), _pending(2)
    await theirs.insert(job)
    await theirs.insert(killed)
    assert _ids(queue.waiting()) == []  # nothing of theirs is known before a read
    await queue.refresh()
    assert _ids(queue.waiting()) == [job.id, killed.id]

    cancelled = StatusItem(JobStatus.CANCELLED, datetime.now(UTC))
    await theirs.update(killed.id, lambda j: j.with_status(cancelled))
    running = StatusItem(JobStatus.RUNNING, datetime.now(UTC))
    await theirs.update(job.id, lambda j: replace(j, materialized=True).with_status(running))
    await queue.refresh()
    assert _ids(queue.waiting()) == []  # a job that left the active statuses leaves the queue
    assert _ids(queue.running()) == [job.id]

    succeeded = StatusItem(JobStatus.SUCCEEDED, datetime.now(UTC))
    await theirs.update(job.id, lambda j: j.with_status(succeeded))
    await queue.refresh()
    assert queue.running() == []
    assert _ids(queue.collectable()) == [job.id]  # its container is still to be removed
    await theirs.update(job.id, lambda j: replace(j, materialized=False))
    await queue.refresh()
    assert queue.all() == []


async def test_a_transaction_committing_after_a_later_one_is_not_missed(
    sessions: async_sessionmaker[AsyncSession],
    other_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A takes its transaction id first and commits last: a mark past B (a sequence or a
    timestamp taken at the read, or the next transaction id) would skip A's job for good."""
    queue = await _loaded_queue(sessions)
    theirs = JobRepository(other_sessions, cached=False)
    early, late = _pending(1), _pending(2)
    async with other_sessions.begin() as a:
        a.add(JobRow(**_row_values(early)))
        await a.flush()  # A has written (and so has its transaction id), not committed
        await theirs.insert(late)  # B: a later transaction, committed at once
        await queue.refresh()
        assert _ids(queue.waiting()) == [late.id]
    # A has committed now, after the read that saw B.
    await queue.refresh()
    assert _ids(queue.waiting()) == [early.id, late.id]
    await queue.refresh()  # read again or not, it stays
    assert _ids(queue.waiting()) == [early.id, late.id]


async def test_this_process_commits_are_in_the_queue_before_any_read(
    sessions: async_sessionmaker[AsyncSession],
    other_sessions: async_sessionmaker[AsyncSession],
) -> None:
    ours = JobRepository(sessions, cached=False)
    queue = SchedulingQueue(ours)
    await queue.load()
    job = _pending(1)
    await ours.insert(job)
    assert _ids(queue.waiting()) == [job.id]  # no refresh: the commit's event
    running = StatusItem(JobStatus.RUNNING, datetime.now(UTC))
    await ours.update(job.id, lambda j: replace(j, materialized=True).with_status(running))
    assert _ids(queue.running()) == [job.id]

    # Another process ends it; our refresh reads their change over our last event.
    theirs = JobRepository(other_sessions, cached=False)
    failed = StatusItem(JobStatus.FAILED, datetime.now(UTC))
    await theirs.update(job.id, lambda j: replace(j, materialized=False).with_status(failed))
    await queue.refresh()
    assert queue.all() == []


async def test_the_first_read_of_a_shared_database_takes_every_active_job(
    sessions: async_sessionmaker[AsyncSession],
    other_sessions: async_sessionmaker[AsyncSession],
) -> None:
    theirs = JobRepository(other_sessions, cached=False)
    jobs = [_pending(n) for n in range(5)]
    await theirs.insert_many(jobs)
    done = StatusItem(JobStatus.SUCCEEDED, datetime.now(UTC))
    await theirs.update(jobs[0].id, lambda j: j.with_status(done))
    queue = await _loaded_queue(sessions)
    assert _ids(queue.waiting()) == _ids(jobs[1:])


async def test_past_the_bound_on_unconfirmed_commits_the_next_read_is_whole_and_right(
    sessions: async_sessionmaker[AsyncSession],
    other_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process that stops leading keeps committing: its queue forgets which of its jobs
    to read again past a bound, and reads everything once instead."""
    monkeypatch.setattr(scheduling_queue, "MAX_UNCONFIRMED", 2)
    ours = JobRepository(sessions, cached=False)
    queue = SchedulingQueue(ours)
    await queue.load()
    jobs = [_pending(n) for n in range(4)]
    for job in jobs:
        await ours.insert(job)
    theirs = JobRepository(other_sessions, cached=False)
    cancelled = StatusItem(JobStatus.CANCELLED, datetime.now(UTC))
    await theirs.update(jobs[0].id, lambda j: j.with_status(cancelled))
    await queue.refresh()
    assert _ids(queue.waiting()) == _ids(jobs[1:])
    await theirs.update(jobs[1].id, lambda j: j.with_status(cancelled))
    await queue.refresh()  # back to reading what changed
    assert _ids(queue.waiting()) == _ids(jobs[2:])


async def test_a_refresh_leaves_out_what_this_process_wrote_last_and_reads_what_others_did(
    sessions: async_sessionmaker[AsyncSession],
    other_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """This process's subscribers had its own commits: the next pass does not read them
    back. A row another process wrote since is read, whoever wrote it before."""
    ours = JobRepository(sessions, cached=False)
    mark, _, _ = await ours.scheduling_changes(None)
    jobs = [_pending(n) for n in range(3)]
    for job in jobs:
        await ours.insert(job)
    waiting = StatusItem(JobStatus.PENDING, datetime.now(UTC), reason="Scheduling")
    await ours.update_many(_ids(jobs[1:]), lambda j: j.with_status(waiting))
    # As the queue asks: the jobs committed here since the last read are named too.
    mark, changed, left = await ours.scheduling_changes(mark, also=_ids(jobs))
    assert (changed, left) == ([], [])

    theirs = JobRepository(other_sessions, cached=False)
    await theirs.update(jobs[1].id, lambda j: replace(j, restarts=7))
    mark, changed, _ = await ours.scheduling_changes(mark)
    assert [(j.id, j.restarts, j.current.reason) for j in changed] == [
        (jobs[1].id, 7, "Scheduling")
    ]


async def test_of_changed_jobs_that_left_the_queue_a_refresh_reads_only_the_ids(
    sessions: async_sessionmaker[AsyncSession],
    other_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Another process finishing jobs, or importing finished ones, costs a refresh an id
    each, not a decoded job; a finished job whose container is left stays whole."""
    ours = JobRepository(sessions, cached=False)
    mark, _, _ = await ours.scheduling_changes(None)
    theirs = JobRepository(other_sessions, cached=False)
    finished = StatusItem(JobStatus.SUCCEEDED, datetime.now(UTC))
    imported = [_pending(n).with_status(finished) for n in range(3)]
    await theirs.insert_many(imported)
    waiting, killed, collectable = _pending(10), _pending(11), _pending(12)
    for job in (waiting, killed, collectable):
        await theirs.insert(job)
    await theirs.update(killed.id, lambda j: j.with_status(finished))
    await theirs.update(
        collectable.id, lambda j: replace(j, materialized=True).with_status(finished)
    )

    mark, changed, left = await ours.scheduling_changes(mark)

    assert sorted(_ids(changed)) == [waiting.id, collectable.id]
    assert sorted(left) == sorted([*_ids(imported), killed.id])


async def test_an_update_reads_again_a_job_another_process_changed_since_this_one_wrote_it(
    sessions: async_sessionmaker[AsyncSession],
    other_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """An update starts from the job this process wrote only while the row's last writer is
    still that transaction: another process's change in between is never overwritten."""
    ours = JobRepository(sessions, cached=False)
    theirs = JobRepository(other_sessions, cached=False)
    job = _pending(1)
    await ours.insert(job)
    await ours.update(job.id, lambda j: replace(j, restarts=1))  # from the job it wrote
    await theirs.update(job.id, lambda j: replace(j, restarts=j.restarts + 10))
    running = StatusItem(JobStatus.RUNNING, datetime.now(UTC))
    updated = await ours.update(job.id, lambda j: j.with_status(running))
    assert (updated.restarts, updated.status) == (11, JobStatus.RUNNING)
    stored = await JobRepository(other_sessions, cached=False).get(job.id)
    assert (stored.restarts, stored.status) == (11, JobStatus.RUNNING)
