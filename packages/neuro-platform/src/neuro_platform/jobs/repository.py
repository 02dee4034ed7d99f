"""Jobs in the database. Every change of a job goes through `update`, one transaction each.

The server process is the only writer of the jobs table (its scheduler and API; the admin
CLI does not touch jobs, and one database serves one server), so this repository keeps the
jobs it has read or written in memory, in step with every commit: `get`, which clients
polling a job's status call many times a second, then costs no database round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .codec import decode_spec, decode_status, encode_spec, encode_status
from .entities import ACTIVE_STATUSES, Job
from .models import JobRow
from .queries import JobNotFoundError, JobQuery

CACHED_JOBS = 10_000  # the most recently used jobs kept in memory


class JobRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # One event per job someone waits on, set (and dropped) by its next `update`.
        self._changes: dict[str, asyncio.Event] = {}
        self._cache: OrderedDict[str, Job] = OrderedDict()
        self._commits = 0  # counts writes, so that a read overtaken by one is not cached
        # Updates of one job are serialised here: SQLite ignores FOR UPDATE, and two
        # read-modify-write transactions could otherwise lose one of the changes.
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @property
    def revision(self) -> int:
        """Grows with every job this process writes (and caches): equal revisions mean no
        job has changed in between, so a page may answer "not modified" without a query."""
        return self._commits

    def next_change(self, job_id: str) -> asyncio.Event:
        """An event set by the job's next change in this process (take it before reading the
        job, so that a change between the read and the wait is not missed). Writers in other
        processes (the admin CLI) do not set it: waiters also re-read on a timeout."""
        return self._changes.setdefault(job_id, asyncio.Event())

    async def next_state(self, job: Job, timeout_s: float) -> Job:
        """The job once it has changed, or as stored after `timeout_s` at the latest."""
        changed = self.next_change(job.id)
        current = await self.get(job.id)
        if current == job:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await changed.wait()
            current = await self.get(job.id)
        return current

    async def insert(self, job: Job) -> None:
        async with self._sessions.begin() as session:
            session.add(_to_row(job))
        self._remember(job)

    async def get(self, job_id: str) -> Job:
        if (cached := self._cache.get(job_id)) is not None:
            self._cache.move_to_end(job_id)
            return cached
        commits = self._commits
        async with self._sessions() as session:
            row = await session.get(JobRow, job_id)
            if row is None:
                raise JobNotFoundError(job_id)
            job = _from_row(row)
        if self._commits == commits:  # else a write since the read may have changed it
            self._remember(job)
        return job

    def _remember(self, job: Job) -> None:
        self._commits += 1
        self._cache[job.id] = job
        self._cache.move_to_end(job.id)
        if len(self._cache) > CACHED_JOBS:
            self._cache.popitem(last=False)

    async def find_by_name(self, owner: str, name: str) -> Job | None:
        """The owner's newest job of that name (names may repeat once a job has finished)."""
        async with self._sessions() as session:
            row = await session.scalar(
                select(JobRow)
                .where(JobRow.owner == owner, JobRow.name == name)
                .order_by(JobRow.created_at.desc())
                .limit(1)
            )
            return None if row is None else _from_row(row)

    async def active_with_name(self, owner: str, name: str) -> Job | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(JobRow).where(
                    JobRow.owner == owner,
                    JobRow.name == name,
                    JobRow.status.in_([str(s) for s in ACTIVE_STATUSES]),
                )
            )
            return None if row is None else _from_row(row)

    async def find(self, query: JobQuery) -> list[Job]:
        statement = select(JobRow)
        if query.statuses:
            statement = statement.where(JobRow.status.in_([str(s) for s in query.statuses]))
        if query.owners:
            statement = statement.where(JobRow.owner.in_(list(query.owners)))
        if query.name is not None:
            statement = statement.where(JobRow.name == query.name)
        if query.cluster_name is not None:
            statement = statement.where(JobRow.cluster_name == query.cluster_name)
        if query.filter_org:
            statement = statement.where(
                JobRow.org_name.is_(None)
                if query.org_name is None
                else JobRow.org_name == query.org_name
            )
        if query.since is not None:
            statement = statement.where(JobRow.created_at >= query.since)
        if query.until is not None:
            statement = statement.where(JobRow.created_at <= query.until)
        order = (
            (JobRow.created_at.desc(), JobRow.id.desc())
            if query.reverse
            else (
                JobRow.created_at,
                JobRow.id,
            )
        )
        async with self._sessions() as session:
            rows = await session.scalars(statement.order_by(*order))
            return [_from_row(row) for row in rows]

    async def scheduling_queue(self) -> list[Job]:
        """Jobs the scheduler must look at: active ones and finished ones with a container."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(JobRow)
                .where(
                    JobRow.status.in_([str(s) for s in ACTIVE_STATUSES])
                    | JobRow.materialized.is_(True)
                )
                .order_by(JobRow.priority.desc(), JobRow.created_at, JobRow.id)
            )
            return [_from_row(row) for row in rows]

    async def update(self, job_id: str, change: Callable[[Job], Job]) -> Job:
        """Applies `change` to the stored job under a row lock; returns the new job.

        The row lock (PostgreSQL) and this process's lock of the job (which SQLite needs)
        keep the API and the scheduler from overwriting each other's transitions.
        """
        async with self._locked(job_id):
            async with self._sessions.begin() as session:
                row = await session.get(JobRow, job_id, with_for_update=True)
                if row is None:
                    raise JobNotFoundError(job_id)
                job = change(_from_row(row))
                _fill_row(row, job)
            self._remember(job)  # committed, and under the lock: in commit order
        if (changed := self._changes.pop(job_id, None)) is not None:
            changed.set()  # committed: a waiter that reads the job now sees the change
        return job

    @asynccontextmanager
    async def _locked(self, job_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(job_id) or (asyncio.Lock(), 0)
        self._locks[job_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[job_id]
            if users == 1:
                del self._locks[job_id]
            else:
                self._locks[job_id] = (lock, users - 1)


def _to_row(job: Job) -> JobRow:
    row = JobRow(id=job.id, created_at=job.created_at)
    _fill_row(row, job)
    return row


def _fill_row(row: JobRow, job: Job) -> None:
    """The job's runtime state into columns, its spec into one document (`codec.py`)."""
    row.owner = job.owner
    row.cluster_name = job.cluster_name
    row.org_name = job.org_name
    row.spec = encode_spec(job.spec)
    row.name = job.spec.name  # columns to filter and order by, never read back
    row.priority = job.spec.priority.rank
    row.status = str(job.status)
    row.statuses = [encode_status(s) for s in job.statuses]
    row.restarts = job.restarts
    row.materialized = job.materialized


def _from_row(row: JobRow) -> Job:
    return Job(
        id=row.id,
        owner=row.owner,
        cluster_name=row.cluster_name,
        org_name=row.org_name,
        spec=decode_spec(row.spec),
        created_at=row.created_at,
        statuses=tuple(decode_status(s) for s in row.statuses),
        restarts=row.restarts,
        materialized=row.materialized,
    )
