"""Leader election on PostgreSQL (leadership.py): one leader among candidates, a leader
whose connection is cut stops its duties while another takes over, and what the deposed
leader still writes is refused by the database (db/fencing.py)."""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from neuro_platform.db.fencing import Deposed, acting_as, next_term
from neuro_platform.jobs.entities import JobStatus, StatusItem
from neuro_platform.jobs.repository import JobRepository
from neuro_platform.leadership import LOCK_KEY, lead_forever

from .jobs.test_repository import _job

POSTGRES_URL_ENV = "NEURO_TEST_POSTGRES_URL"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get(POSTGRES_URL_ENV), reason="needs PostgreSQL"),
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


class Candidate:
    """Duties that record whether they run, and the most candidates ever running them at once."""

    most_at_once = 0
    at_once = 0
    someone_leads = asyncio.Event()

    def __init__(self) -> None:
        self.leading = False
        self.terms = 0
        self.changed = asyncio.Event()

    @asynccontextmanager
    async def duties(self) -> AsyncIterator[None]:
        self.leading = True
        self.terms += 1
        Candidate.at_once += 1
        Candidate.most_at_once = max(Candidate.most_at_once, Candidate.at_once)
        Candidate.someone_leads.set()
        self.changed.set()
        try:
            yield
        finally:
            Candidate.at_once -= 1
            Candidate.someone_leads.clear()
            self.leading = False
            self.changed.set()

    async def wait_until(self, leading: bool) -> None:
        while self.leading is not leading:
            self.changed.clear()
            await self.changed.wait()


async def _terminate_lock_holder(database_url: str) -> int:
    """Ends, from outside, the session that holds the leader lock: a dropped connection."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted "
                    "AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "AND classid::bigint = :high AND objid::bigint = :low"
                ),
                {"high": LOCK_KEY >> 32, "low": LOCK_KEY & 0xFFFFFFFF},
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def test_one_leader_and_fail_over_when_its_connection_drops(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],  # migrated: the leadership row exists
) -> None:
    first, second = Candidate(), Candidate()
    first_task = asyncio.create_task(lead_forever(database_url, first.duties))
    await first.wait_until(leading=True)
    second_task = asyncio.create_task(lead_forever(database_url, second.duties))
    try:
        # The second keeps campaigning (every RETRY_S) but never wins while the first leads.
        await asyncio.sleep(2.5)
        assert not second.leading
        assert second.terms == 0

        assert await _terminate_lock_holder(database_url) == 1
        await first.wait_until(leading=False)  # the cut-off leader stops its duties
        # Then whichever campaigns first leads again (the first may win back the lock).
        await Candidate.someone_leads.wait()
        assert first.terms + second.terms == 2  # one new term, held by one candidate
        assert Candidate.most_at_once == 1
    finally:
        for task in (first_task, second_task):
            task.cancel()
        await asyncio.gather(first_task, second_task, return_exceptions=True)
    assert not first.leading  # cancelled: duties left
    assert not second.leading


class Writer(Candidate):
    """Duties that keep their context: what the leader's loops write from (its term)."""

    context: contextvars.Context | None = None

    @asynccontextmanager
    async def duties(self) -> AsyncIterator[None]:
        self.context = contextvars.copy_context()
        async with super().duties():
            yield


async def test_a_deposed_leaders_late_write_is_refused_by_the_database(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    jobs = JobRepository(sessions, cached=False)  # as on PostgreSQL (several processes)
    await jobs.insert(_job("job-1"))
    a, b = Writer(), Writer()

    async def write_as(leader: Writer, status: JobStatus) -> None:
        # The scheduler's write path (JobRepository.update) run from the leader's loops.
        item = StatusItem(status, datetime.now(UTC))
        assert leader.context is not None
        await asyncio.create_task(
            jobs.update("job-1", lambda j: j.with_status(item)), context=leader.context
        )

    a_task = asyncio.create_task(lead_forever(database_url, a.duties))
    b_task: asyncio.Task[None] | None = None
    try:
        await a.wait_until(leading=True)
        await write_as(a, JobStatus.RUNNING)  # the rightful leader writes

        # A's lock session is cut; A is kept from campaigning again, B wins.
        assert await _terminate_lock_holder(database_url) == 1
        await a.wait_until(leading=False)
        a_task.cancel()
        await asyncio.gather(a_task, return_exceptions=True)
        b_task = asyncio.create_task(lead_forever(database_url, b.duties))
        await b.wait_until(leading=True)
        await write_as(b, JobStatus.SUCCEEDED)

        # A write of A's scheduler that lands now is refused, whatever A believes.
        with pytest.raises(Deposed):
            await write_as(a, JobStatus.FAILED)
        stored = await JobRepository(sessions).get("job-1")
        assert stored.status is JobStatus.SUCCEEDED
        # The API's writes (no leader's context) are not fenced, on any process.
        await jobs.update("job-1", lambda j: replace(j, restarts=1))
        assert (await JobRepository(sessions).get("job-1")).restarts == 1
    finally:
        for task in (a_task, b_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("first", ["api", "deposed leader"])
async def test_group_committed_updates_are_fenced_by_their_own_callers_term(
    database_url: str, sessions: async_sessionmaker[AsyncSession], first: str
) -> None:
    """One task commits the updates asked meanwhile together (JobRepository.update): each
    is fenced by the term its own caller acts in, not by that of whoever started the task.
    A deposed leader's change is refused, the API's beside it lands, in either order."""
    jobs = JobRepository(sessions, cached=False)
    for job_id in ("job-api", "job-late"):
        await jobs.insert(_job(job_id))
    async with sessions.begin() as session:  # two elections since the term `old`
        old = await next_term(await session.connection())
        await next_term(await session.connection())
    cancelled = StatusItem(JobStatus.CANCELLED, datetime.now(UTC))

    def api() -> asyncio.Task[object]:
        return asyncio.create_task(jobs.update("job-api", lambda j: j.with_status(cancelled)))

    def late() -> asyncio.Task[object]:
        with acting_as(old):  # the task copies the context: the deposed leader's loops
            return asyncio.create_task(jobs.update("job-late", lambda j: j.with_status(cancelled)))

    # Created in this order, the first task's update starts the group commit's task and
    # the second's joins its first batch.
    order = ("api", "late") if first == "api" else ("late", "api")
    tasks = [api() if name == "api" else late() for name in order]
    outcomes = dict(zip(order, await asyncio.gather(*tasks, return_exceptions=True), strict=True))

    assert isinstance(outcomes["late"], Deposed)
    assert not isinstance(outcomes["api"], BaseException)
    stored = JobRepository(sessions)
    assert (await stored.get("job-late")).status is JobStatus.PENDING
    assert (await stored.get("job-api")).status is JobStatus.CANCELLED
