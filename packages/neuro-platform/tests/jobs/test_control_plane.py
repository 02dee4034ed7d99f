"""The control plane at scale (issue #20): listings read in keyset pages equal the one-query
listing they replace (filters, order, limit, reverse), the scheduler's in-memory queue follows
every commit, and bursts of kills or a locked SQLite database never answer 5xx.

Repository tests run on SQLite and PostgreSQL (the `sessions` fixture); server tests run our
server on loopback with its SQLite database.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from neuro_platform.db.engine import create_engine, create_session_factory
from neuro_platform.jobs import repository as repository_module
from neuro_platform.jobs.encoded import EncodedJobs
from neuro_platform.jobs.entities import (
    FINISHED_STATUSES,
    Container,
    Job,
    JobPriority,
    JobSpec,
    JobStatus,
    Resources,
    StatusItem,
)
from neuro_platform.jobs.queries import JobQuery
from neuro_platform.jobs.repository import FIRST_PAGE, PAGE, JobRepository
from neuro_platform.jobs.scheduling_queue import SchedulingQueue
from neuro_platform.testing import PlatformServer
from neuro_platform.testing.server import DATABASE_FILE

from .client import JobsClient
from .conftest import ServerFactory, busybox_job, counted_commits

MIB = 1024**2
BASE = datetime(2026, 1, 1, tzinfo=UTC)
STATUSES = [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.CANCELLED]


def _job(
    n: int,
    *,
    owner: str = "alice",
    created_at: datetime | None = None,
    status: JobStatus = JobStatus.SUCCEEDED,
    priority: JobPriority = JobPriority.NORMAL,
    name: str | None = None,
    org: str | None = None,
) -> Job:
    when = created_at or BASE + timedelta(seconds=n)
    spec = JobSpec(
        Container(image="busybox", resources=Resources(cpu=0.1, memory=64 * MIB)),
        name=name,
        priority=priority,
    )
    return Job(
        id=f"job-{n:06d}",
        owner=owner,
        cluster_name="default",
        org_name=org,
        spec=spec,
        created_at=when,
        statuses=(StatusItem(status, when),),
    )


def _history(count: int) -> list[Job]:
    """`count` jobs of two owners in every status; seven at a time share a creation time, so
    page boundaries fall inside such groups (the id orders them) — ids do not follow time.
    Names repeat among finished jobs only, as the database allows (an unfinished job's name
    is its owner's)."""
    jobs = []
    for n in range(count):
        status = STATUSES[n % len(STATUSES)]
        name = f"name-{n % 5}" if status in FINISHED_STATUSES else f"name-{n % 5}-{n}"
        jobs.append(
            _job(
                # Reversed ids within a group: the order must come from (created_at, id).
                (n // 7) * 7 + (6 - n % 7),
                owner="alice" if n % 3 else "bob",
                created_at=BASE + timedelta(minutes=n // 7),
                status=status,
                name=name if n % 2 else None,
                org="acme" if n % 11 == 0 else None,
            )
        )
    return jobs


def _expected(jobs: Sequence[Job], keep: Callable[[Job], bool], reverse: bool) -> list[str]:
    ordered = sorted((j for j in jobs if keep(j)), key=lambda j: (j.created_at, j.id))
    return [j.id for j in (reversed(ordered) if reverse else ordered)]


async def test_streamed_listing_equals_the_filtered_ordered_history(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repository = JobRepository(sessions)
    jobs = _history(2 * PAGE + 205)
    await repository.insert_many(jobs)
    middle = BASE + timedelta(minutes=50)
    late = BASE + timedelta(minutes=120)
    cases: list[tuple[JobQuery, Callable[[Job], bool]]] = [
        (JobQuery(), lambda j: True),
        (JobQuery(owners=["alice"]), lambda j: j.owner == "alice"),
        (
            JobQuery(statuses=[JobStatus.PENDING, JobStatus.RUNNING]),
            lambda j: j.status in (JobStatus.PENDING, JobStatus.RUNNING),
        ),
        (
            JobQuery(owners=["bob"], statuses=[JobStatus.CANCELLED]),
            lambda j: j.owner == "bob" and j.status is JobStatus.CANCELLED,
        ),
        (JobQuery(name="name-3"), lambda j: j.spec.name == "name-3"),
        (JobQuery(filter_org=True, org_name="acme"), lambda j: j.org_name == "acme"),
        (JobQuery(filter_org=True, org_name=None), lambda j: j.org_name is None),
        (JobQuery(since=middle, until=late), lambda j: middle <= j.created_at <= late),
        (JobQuery(cluster_name="elsewhere"), lambda j: False),
    ]
    for query, keep in cases:
        for reverse in (False, True):
            found = [j.id async for j in repository.stream(replace(query, reverse=reverse))]
            assert found == _expected(jobs, keep, reverse), (query, reverse)
    # Jobs come back whole, and equal to what was stored.
    stored = {j.id: j for j in jobs}
    streamed = [j async for j in repository.stream(JobQuery())]
    assert streamed == [stored[job_id] for job_id in _expected(jobs, lambda j: True, False)]


async def test_a_limited_listing_reads_only_the_rows_it_needs(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repository = JobRepository(sessions)
    jobs = _history(PAGE + 50)
    await repository.insert_many(jobs)
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        newest = []
        async for job in repository.stream(JobQuery(reverse=True), first_page=10):
            newest.append(job.id)
            if len(newest) == 10:
                break
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert newest == _expected(jobs, lambda j: True, reverse=True)[:10]
    # One query of ten rows (LIMIT 10): not every job loaded, then cut, and no next page
    # read ahead.
    assert len(statements) == 1
    ((rows, parameters),) = statements
    assert "LIMIT" in rows.upper()
    assert 10 in _values(parameters)


async def test_listings_keep_jobs_in_the_cache_without_evicting_or_overwriting(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository_module, "CACHED_JOBS", 30)
    writer = JobRepository(sessions)
    await writer.insert_many(_history(80))
    repository = JobRepository(sessions)
    # Ten jobs this process wrote: the cache holds them as committed.
    written = [await repository.update(f"job-{n:06d}", lambda j: j) for n in range(10)]
    listed = [j async for j in repository.stream(JobQuery())]
    assert [j.id for j in listed] == _expected(_history(80), lambda j: True, reverse=False)
    # The listing filled the room left (20 jobs) and evicted none of the written ones.
    for job in written:
        assert await repository.get(job.id) is job
    kept = [j for j in listed if j.id not in {w.id for w in written}][:20]
    for job in kept:
        assert await repository.get(job.id) is job  # from memory: the very object listed
    # A later write wins over what a listing read, in memory and in the next listing.
    changed = await repository.update(kept[0].id, lambda j: replace(j, materialized=True))
    again = {j.id: j async for j in repository.stream(JobQuery())}
    assert again[kept[0].id] is changed
    assert (await repository.get(kept[0].id)).materialized


def test_a_finished_jobs_encoding_lives_as_long_as_the_job_object() -> None:
    encoded = EncodedJobs()
    calls: list[str] = []

    def encode(job: Job) -> bytes:
        calls.append(job.id)
        return f"{job.id}:{job.status}:{job.materialized}".encode()

    done = _job(1, status=JobStatus.SUCCEEDED)
    running = _job(2, status=JobStatus.RUNNING)
    assert (
        encoded.encoded(done, encode)
        == encoded.encoded(done, encode)
        == b"job-000001:succeeded:False"
    )
    assert calls == [done.id]  # made once
    # A running job's run time grows: encoded every time, never kept.
    encoded.encoded(running, encode)
    encoded.encoded(running, encode)
    assert calls == [done.id, running.id, running.id]
    # Hostile: the same job changed (a new object, equal id) is never served the old bytes.
    collected = replace(done, materialized=True)
    assert encoded.encoded(collected, encode) == b"job-000001:succeeded:True"
    # An equal but distinct object is encoded on its own too: identity, not equality.
    assert encoded.encoded(replace(done), encode) == b"job-000001:succeeded:False"
    assert len(calls) == 5
    # Entries go with their objects: the cache is bounded by the jobs alive elsewhere.
    del done, collected
    gc.collect()
    assert len(encoded) == 0


async def test_api_listing_after_a_change_shows_the_change(make_server: ServerFactory) -> None:
    """Listings keep finished jobs' wire form: a job that changes after a listing must be
    listed as it is now, in both forms."""
    jobs = [replace(j, owner="alice", org_name=None) for j in _history(FIRST_PAGE + 40)]
    finished = [j for j in jobs if j.is_finished]
    with make_server() as server:
        await _fill_history(server, finished)
        async with JobsClient(server, "alice") as alice:
            pending = await alice.submit(busybox_job("sleep 1000"))
            for ndjson in (True, False):  # twice: the second listing reuses the encodings
                listed = {j["id"]: j for j in await alice.list(ndjson=ndjson)}
                assert listed[pending["id"]]["status"] in ("pending", "running")
                assert len(listed) == len(finished) + 1
            assert await alice.kill(pending["id"]) == 204
            for ndjson in (True, False):
                listed = {j["id"]: j for j in await alice.list(ndjson=ndjson)}
                assert listed[pending["id"]]["status"] == "cancelled"
                assert [j["id"] for j in listed.values()][: len(finished)] == _expected(
                    finished, lambda j: True, reverse=False
                )


def _values(parameters: Any) -> list[Any]:
    values = list(parameters.values() if isinstance(parameters, dict) else parameters)
    # asyncpg's dialect may pass IN lists expanded, others as one tuple.
    return [v for value in values for v in (value if isinstance(value, list | tuple) else [value])]


async def test_count_active_counts_only_the_owners_unfinished_jobs(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repository = JobRepository(sessions)
    await repository.insert_many(_history(40))
    expected = sum(
        1 for j in _history(40) if j.owner == "alice" and not j.is_finished
    )  # pending and running
    assert expected > 0
    assert await repository.count_active("alice") == expected
    assert await repository.count_active("nobody") == 0


async def test_scheduling_queue_follows_every_commit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repository = JobRepository(sessions)
    queue = SchedulingQueue(repository)
    low = _job(1, status=JobStatus.PENDING, priority=JobPriority.LOW)
    old = _job(2, status=JobStatus.PENDING)
    high = _job(3, status=JobStatus.PENDING, priority=JobPriority.HIGH)
    done = _job(4, status=JobStatus.SUCCEEDED)
    await repository.insert_many([low, old, done])
    await queue.load()
    await repository.insert(high)  # after the load: known from the event alone
    assert [j.id for j in queue.waiting()] == [high.id, old.id, low.id]
    assert queue.running() == []
    assert queue.collectable() == []

    started = StatusItem(JobStatus.RUNNING, datetime.now(UTC))
    await repository.update(old.id, lambda j: replace(j, materialized=True).with_status(started))
    assert [j.id for j in queue.waiting()] == [high.id, low.id]
    assert [j.id for j in queue.running()] == [old.id]

    ended = StatusItem(JobStatus.CANCELLED, datetime.now(UTC))
    await repository.update(old.id, lambda j: j.with_status(ended))
    assert queue.running() == []
    assert [j.id for j in queue.collectable()] == [old.id]
    await repository.update(old.id, lambda j: replace(j, materialized=False))
    assert queue.collectable() == []
    # Skipped jobs (those starting) are left out, the others keep their order.
    assert [j.id for j in queue.waiting(skip={high.id})] == [low.id]
    # A job that stops waiting while a walk is under way is not handed out.
    walk = queue.waiting()
    assert next(walk).id == high.id
    await repository.update(low.id, lambda j: j.with_status(ended))
    assert list(walk) == []


# -- the server ----------------------------------------------------------------------------


async def _fill_history(server: PlatformServer, jobs: Sequence[Job]) -> None:
    """Straight into the server's database (as the benchmark does for large histories)."""
    engine = create_engine(f"sqlite+aiosqlite:///{server.data_dir / DATABASE_FILE}")
    try:
        await JobRepository(create_session_factory(engine)).insert_many(jobs)
    finally:
        await engine.dispose()


async def test_api_listing_streams_every_page_in_json_and_ndjson(
    make_server: ServerFactory,
) -> None:
    # Alice's jobs, in no org (the test cluster has none); finished: nothing to schedule.
    jobs = [replace(j, owner="alice", org_name=None) for j in _history(PAGE + 130)]
    finished = [j for j in jobs if j.is_finished]
    with make_server() as server:
        await _fill_history(server, finished)
        async with JobsClient(server, "alice") as alice, JobsClient(server, "bob") as bob:
            everything = _expected(finished, lambda j: True, reverse=False)
            assert [j["id"] for j in await alice.list()] == everything
            assert [j["id"] for j in await alice.list(ndjson=False)] == everything
            newest = await alice.list([("limit", "7"), ("reverse", "1")], ndjson=False)
            assert [j["id"] for j in newest] == everything[::-1][:7]
            cancelled = await alice.list([("status", "cancelled"), ("reverse", "true")])
            assert [j["id"] for j in cancelled] == _expected(
                finished, lambda j: j.status is JobStatus.CANCELLED, reverse=True
            )
            # Another user sees none of them, in either form, and an empty JSON list parses.
            assert await bob.list() == []
            assert await bob.list(ndjson=False) == []
            # Bad input is still a 400 with an error, not a half-sent stream.
            async with bob.session.get(bob.jobs_url, params={"limit": "0"}) as response:
                assert response.status == 400
                assert "limit" in (await response.json())["error"]


async def test_api_limits_and_filters_hold_across_page_boundaries(
    make_server: ServerFactory,
) -> None:
    """Hostile: every other job is bob's, which alice may not see, so each page the server
    reads is half filtered out; limits beyond the first page and huge limits still answer
    exactly alice's jobs in order, in both forms."""
    jobs = [
        replace(j, owner="alice" if n % 2 else "bob", org_name=None)
        for n, j in enumerate(_history(PAGE + 3 * FIRST_PAGE))
    ]
    finished = [j for j in jobs if j.is_finished]
    with make_server() as server:
        await _fill_history(server, finished)
        async with JobsClient(server, "alice") as alice:
            mine = _expected(finished, lambda j: j.owner == "alice", reverse=False)
            assert len(mine) > FIRST_PAGE + 50
            for ndjson in (True, False):
                assert [j["id"] for j in await alice.list(ndjson=ndjson)] == mine
                limited = await alice.list([("limit", str(FIRST_PAGE + 50))], ndjson=ndjson)
                assert [j["id"] for j in limited] == mine[: FIRST_PAGE + 50]
                huge = await alice.list([("limit", "1000000"), ("reverse", "1")], ndjson=ndjson)
                assert [j["id"] for j in huge] == mine[::-1]
                succeeded = await alice.list(
                    [("status", "succeeded"), ("limit", str(FIRST_PAGE + 1))], ndjson=ndjson
                )
                assert [j["id"] for j in succeeded] == _expected(
                    finished,
                    lambda j: j.owner == "alice" and j.status is JobStatus.SUCCEEDED,
                    reverse=False,
                )[: FIRST_PAGE + 1]


async def test_a_burst_of_kills_of_pending_jobs_never_answers_5xx(
    make_server: ServerFactory,
) -> None:
    with make_server() as server:
        async with JobsClient(server, "alice") as alice:
            # The node has room for two: the rest stay pending.
            jobs = await asyncio.gather(
                *(alice.submit(busybox_job("sleep 300")) for _ in range(60))
            )
            ids = [j["id"] for j in jobs]
            # Kills from 20 clients at once, while more submissions and listings go on.
            remaining = iter(ids)
            answers: list[int] = []

            async def killer() -> None:
                for job_id in remaining:
                    answers.append(await alice.kill(job_id))

            extra: list[dict[str, Any]] = []

            async def submitter() -> None:
                for _ in range(10):
                    extra.append(await alice.submit(busybox_job("sleep 300")))
                    await alice.list([("status", "pending")])

            await asyncio.gather(*(killer() for _ in range(20)), submitter())
            assert answers == [204] * len(ids)
            for job_id in ids:
                assert (await alice.get(job_id))["status"] == "cancelled"
            for job in extra:
                assert await alice.kill(job["id"]) == 204


async def test_a_locked_database_answers_503_with_retry_after_not_500(
    make_server: ServerFactory,
) -> None:
    with make_server() as server:
        async with JobsClient(server, "alice") as alice:
            job = await alice.submit(busybox_job("sleep 300"))
            await alice.wait_for(job["id"], ["running"])
            # Another process (think: a backup tool) holds SQLite's write lock for longer
            # than the server's busy timeout.
            holder = sqlite3.connect(server.data_dir / DATABASE_FILE, isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")
                async with alice.session.delete(alice.jobs_url / job["id"]) as response:
                    assert response.status == 503
                    assert response.headers["Retry-After"] == "1"
                    assert "busy" in (await response.json())["error"]
                assert (await alice.get(job["id"]))["status"] == "running"
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            # Once the lock is gone, the same request succeeds.
            assert await alice.kill(job["id"]) == 204
            assert (await alice.get(job["id"]))["status"] == "cancelled"


async def test_bursts_of_sqlite_sessions_reuse_their_connections(tmp_path: Path) -> None:
    """20 requests at a time (the benchmark's submitters) each hold a session: the second
    burst must find the connections of the first open, not open (a thread, a file, PRAGMAs)
    and close one each again, as the default pool of five did."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'burst.db'}")
    opened = 0

    def count(*_: Any) -> None:
        nonlocal opened
        opened += 1

    event.listen(engine.sync_engine, "connect", count)
    sessions = create_session_factory(engine)
    held = asyncio.Event()

    async def request(arrived: list[int]) -> None:
        async with sessions() as session:
            await session.execute(select(1))
            arrived.append(1)
            if len(arrived) == 20:
                held.set()
            await held.wait()  # all 20 sessions hold a connection at once

    try:
        for burst in range(2):
            held.clear()
            arrived: list[int] = []
            await asyncio.gather(*(request(arrived) for _ in range(20)))
            if burst == 0:
                assert opened == 20
        assert opened == 20  # the second burst opened none
    finally:
        await engine.dispose()


async def test_update_many_changes_every_job_in_one_go(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repository = JobRepository(sessions)
    queue = SchedulingQueue(repository)
    jobs = [_job(n, status=JobStatus.PENDING) for n in range(5)]
    await repository.insert_many(jobs)
    await queue.load()
    waiter = repository.next_change(jobs[0].id)
    noted = StatusItem(JobStatus.PENDING, datetime.now(UTC), reason="Scheduling")
    ids = [j.id for j in jobs[:3]] + ["job-gone"]  # an unknown id is skipped, not an error

    await repository.update_many(ids, lambda j: j.with_status(noted))

    assert waiter.is_set()
    fresh = JobRepository(sessions)  # reads the database, not this repository's memory
    for job in jobs:
        expected = "Scheduling" if job.id in ids else None
        assert (await fresh.get(job.id)).current.reason == expected
        assert (await repository.get(job.id)).current.reason == expected
    assert [j.current.reason for j in queue.waiting()] == ["Scheduling"] * 3 + [None] * 2


async def test_a_burst_of_submissions_is_stored_whole_in_few_commits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repository = JobRepository(sessions)
    queue = SchedulingQueue(repository)
    await queue.load()
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    jobs = [_job(n, status=JobStatus.PENDING) for n in range(50)]
    with counted_commits(sessions) as commits:
        await asyncio.gather(*(repository.insert(job) for job in jobs))
    fresh = JobRepository(sessions)
    assert [j.id async for j in fresh.stream(JobQuery())] == [j.id for j in jobs]
    assert [j.id for j in queue.waiting()] == [j.id for j in jobs]  # every commit announced
    if engine.dialect.name == "sqlite":  # one writer: a burst shares its transactions
        assert len(commits) < len(jobs)
