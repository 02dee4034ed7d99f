"""Jobs in the database. Every change of a job goes through `update` (or `update_many`).

The server process is the only writer of the jobs table (its scheduler and API; the admin
CLI does not touch jobs, and one database serves one server), so this repository keeps the
jobs it has read or written in memory, in step with every commit: `get`, which clients
polling a job's status call many times a second, then costs no database round trip. For the
same reason it can tell its subscribers (the scheduler) about every committed change, so they
never have to read every active job again to find out what changed.

On SQLite the writes of this repository take turns on one lock: SQLite has one writer at a
time, and many connections waiting in its busy handler (which polls) starve one another,
so a burst of kills ended in "database is locked" after the busy timeout. On PostgreSQL,
which locks rows, writes run concurrently.

A job that mounts disks read-write is recorded with its claims on them (`insert_claiming`), in
one transaction whose primary key on `disk_writers` decides between racing submissions,
whichever process they reach; every other job takes the group-committed `insert`. Either
counts, in its transaction, the unfinished jobs of an account with a limit of them (the jobs
quota), so that racing submissions cannot each take its last place.

Listings (`pages`, `stream`) read in keyset pages on the (created_at, id) order that the
indexes of migration 0009 follow: memory stays at a page or two, each page is a short read
that holds no connection while the client reads, and a limit stops the reading early.

Where several server processes share a PostgreSQL database (docs/scale-out.md), the others
write too, so there `cached=False` makes `get` read through, and the scheduler's queue reads
what changed in the database at each pass (`scheduling_changes`, `SchedulingQueue.refresh`).
Listings there keep the jobs they decoded beside the columns they were decoded from, and
reuse a job only when its row reads the same again: another writer's change is never hidden,
and an unchanged history is not decoded again (nor encoded again: `encoded.py` keys on the
job object).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from typing import cast as cast_type

from sqlalchemy import (
    ARRAY,
    BigInteger,
    BindParameter,
    ColumnElement,
    Row,
    Select,
    String,
    Table,
    Text,
    all_,
    any_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from ..db.fencing import acting_as, current_term
from ..db.group_commit import GroupCommit
from .codec import (
    decode_spec_json,
    decode_statuses_json,
    encode_spec,
    encode_status,
)
from .entities import ACTIVE_STATUSES, Job, JobSpec
from .models import DiskWriterRow, JobRow
from .queries import (
    ActiveLimit,
    ActiveLimitReachedError,
    JobNameTakenError,
    JobNotFoundError,
    JobQuery,
)

CACHED_JOBS = 10_000  # the most recently used jobs kept in memory
# This process's write transactions that a refresh may still meet (shared database): more
# than a scheduler pass commits under any burst; one dropped is only read again.
OWN_TRANSACTIONS = 10_000
# The most inserts committed together: one INSERT statement of that many rows (SQLAlchemy
# splits larger ones into several, which one statement's atomicity would not cover).
GROUP_COMMIT = 1000
# Jobs per page of a listing: one page in memory at a time. Each page costs a query and a
# trip to a worker thread; a page of 1000 is a few MB and tens of ms of decoding.
PAGE = 1000
FIRST_PAGE = 100  # small: the first jobs of a listing go out at once

JobListener = Callable[[Job], None]


class SchedulingChanges(NamedTuple):
    """A scheduler's read (`JobRepository.scheduling_changes`)."""

    mark: int | None  # where the next read starts (PostgreSQL); None: read all again
    jobs: list[Job]  # changed jobs in the scheduling queue, or all of it
    left: list[str]  # ids of changed jobs no longer in it (finished, no container)


class _Insert(NamedTuple):
    job: Job
    limits: Sequence[ActiveLimit]  # of its account's unfinished jobs: counted with the insert
    done: asyncio.Future[None]  # its caller's wait for the commit


@dataclass(frozen=True)
class _Update:
    """A change asked of one job; `done` is told what it made (`update_many`'s are not)."""

    job_id: str
    change: Callable[[Job], Job]
    done: asyncio.Future[Job] | None = None
    term: int | None = None  # the leader's term its caller acts in (db/fencing.py)


def _up_to_a_statement(queue: list[_Insert]) -> tuple[list[_Insert], list[_Insert]]:
    return queue[:GROUP_COMMIT], queue[GROUP_COMMIT:]


def _of_one_term(queue: list[_Update]) -> tuple[list[_Update], list[_Update]]:
    term = queue[0].term
    return [u for u in queue if u.term == term], [u for u in queue if u.term != term]


def _outcome(update: _Update, job: Job | None) -> Job | Exception:
    """What `update` makes of `job` as the batch has left it so far: the new job, or the
    error its caller gets (the job is gone, or the change refused it)."""
    if job is None:
        return JobNotFoundError(update.job_id)
    try:
        return update.change(job)
    except Exception as error:
        return error


class JobRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, cached: bool = True) -> None:
        self._sessions = sessions
        self._cached = cached
        # One event per job someone waits on, set (and dropped) by its next `update`.
        self._changes: dict[str, asyncio.Event] = {}
        self._cache: OrderedDict[str, Job] = OrderedDict()
        # Shared database only: jobs a listing decoded, with the columns they came from and
        # the number of the listing that last used them.
        self._listed: OrderedDict[str, tuple[tuple[Any, ...], Job, int]] = OrderedDict()
        self._listings = 0
        self._commits = 0  # counts writes, so that a read overtaken by one is not cached
        # Updates of one job are serialised here: SQLite ignores FOR UPDATE, and two
        # read-modify-write transactions could otherwise lose one of the changes.
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._listeners: list[JobListener] = []
        bind: AsyncEngine = sessions.kw["bind"]
        self._engine = bind
        self._single_writer = bind.dialect.name == "sqlite"
        self._claim = _CLAIM[bind.dialect.name]
        # Where others write too (PostgreSQL), this process tells its own writes by the id
        # of the transaction that made them (see `_written`).
        self._tracks_writers = not cached and not self._single_writer
        # A statement that runs alone needs no transaction around it: on PostgreSQL that
        # saves a round trip for BEGIN and one for COMMIT (or ROLLBACK) of a group of
        # inserts, a scheduler's refresh, a listing's page. (SQLite: the engine as it is,
        # whose `begin` commits what the statement wrote.)
        self._one_statement = (
            bind if self._single_writer else bind.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._write_turn = asyncio.Lock()  # FIFO: no writer starves (SQLite only)
        # A group of inserts is taken once it is this process's turn to write (SQLite),
        # up to one statement's worth; a group of updates holds the updates of one
        # leader's term (see `update`).
        self._inserts = GroupCommit(self._insert_batch, _up_to_a_statement, self._writing)
        self._updates = GroupCommit(self._commit_updates, _of_one_term)
        # Shared database only: the jobs this process wrote last, each with the id of the
        # transaction that wrote it. A row whose `writer_xid` still names that transaction
        # holds that very job: an update need not read it whole, nor the scheduler's
        # refresh read it again (`scheduling_changes`).
        self._written: OrderedDict[str, tuple[int, Job]] = OrderedDict()
        self._own_xids: deque[int] = deque(maxlen=OWN_TRANSACTIONS)

    @property
    def cached(self) -> bool:
        """Whether this process is the jobs table's one writer (see the module's docstring)."""
        return self._cached

    def subscribe(self, listener: JobListener) -> None:
        """Calls `listener` with every job this process commits, in commit order (a job's
        changes are serialised by its lock), right after the commit."""
        self._listeners.append(listener)

    def _committed(self, job: Job) -> None:
        self._remember(job)
        for listener in self._listeners:
            listener(job)

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        if not self._single_writer:
            yield
            return
        async with self._write_turn:
            yield

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

    async def insert(self, job: Job, limits: Sequence[ActiveLimit] = ()) -> None:
        """Records a new job (group commit). Jobs submitted while a commit of inserts is
        under way, or waiting for its turn to write, go into the next one together: one
        transaction for a burst of submissions instead of one each. If that transaction
        fails, each of its jobs is inserted on its own, so that one bad row fails only its
        own submission.

        With `limits`, the job is counted against them in that transaction: a job that
        would take its account past one is not recorded, and `ActiveLimitReachedError` is
        raised. The jobs of one group are admitted in the order they came."""
        done = asyncio.get_running_loop().create_future()
        self._inserts.add(_Insert(job, limits, done))
        async with self._name_taken_said(job):
            await done

    @asynccontextmanager
    async def _name_taken_said(self, job: Job) -> AsyncIterator[None]:
        """A refused insert of a named job raises `JobNameTakenError` where the unique index
        on unfinished jobs' names refused it (asked again: each database words its errors
        its own way)."""
        try:
            yield
        except IntegrityError:
            name = job.spec.name
            if name is not None and await self.active_with_name(job.owner, name) is not None:
                raise JobNameTakenError(name) from None
            raise

    async def _insert_batch(self, batch: Sequence[_Insert]) -> bool:
        """One INSERT statement for the jobs of the batch its limits admit; True if it
        committed. With one job, its error (if any) goes to its caller; with several,
        nobody is told yet (each is retried alone)."""
        refused: list[tuple[_Insert, ActiveLimit]] = []
        try:
            if any(item.limits for item in batch):
                # The counts, and the insert they admit, in one transaction.
                async with self._engine.connect() as connection, connection.begin():
                    overs = await self._over_limits(connection, [i.limits for i in batch])
                    refused = [(i, over) for i, over in zip(batch, overs, strict=True) if over]
                    admitted = [i for i, over in zip(batch, overs, strict=True) if over is None]
                    xid = await self._insert_rows(connection, admitted)
            else:
                # One statement, atomic by itself (a submission is the API's: never fenced).
                admitted = list(batch)
                async with self._one_statement.begin() as connection:
                    xid = await self._insert_rows(connection, admitted)
        except Exception as error:
            if len(batch) == 1 and not batch[0].done.done():
                batch[0].done.set_exception(error)
            return False
        self._wrote(xid, [item.job for item in admitted])
        for item in admitted:
            self._committed(item.job)
            if not item.done.done():
                item.done.set_result(None)
        for item, limit in refused:
            if not item.done.done():
                item.done.set_exception(ActiveLimitReachedError(limit))
        return True

    async def _insert_rows(
        self, connection: AsyncConnection, items: Sequence[_Insert]
    ) -> int | None:
        """Inserts the jobs; the id of the transaction that wrote them, where it is tracked."""
        if not items:
            return None
        written = await connection.execute(_INSERT_RETURNING, [_row_values(i.job) for i in items])
        return written.scalars().first() if self._tracks_writers else None

    async def _over_limits(
        self, connection: AsyncConnection, wanted: Sequence[Sequence[ActiveLimit]]
    ) -> list[ActiveLimit | None]:
        """For new jobs under `wanted` limits, in order: the first limit each would take its
        account past (it is then not to be recorded), or None. Each account is counted
        once, after its turn is taken: on PostgreSQL a transaction lock per account, taken
        in a fixed order; on SQLite the database's write lock (`BEGIN IMMEDIATE`), so that
        no other connection inserts between the count and this transaction's insert."""
        accounts = {limit.account: limit.query for limits in wanted for limit in limits}
        if not accounts:
            return [None for _ in wanted]
        if self._single_writer:
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            for account in sorted(accounts):
                await connection.execute(_ACCOUNT_TURN, {"key": _lock_key(account)})
        taken = {account: await _count(connection, query) for account, query in accounts.items()}
        overs: list[ActiveLimit | None] = []
        for limits in wanted:
            overs.append(next((lim for lim in limits if taken[lim.account] >= lim.most), None))
            if overs[-1] is None:
                for limit in limits:
                    taken[limit.account] += 1
        return overs

    async def insert_claiming(
        self, job: Job, disk_ids: Collection[str], limits: Sequence[ActiveLimit] = ()
    ) -> str | None:
        """Records a new job together with its claims on `disk_ids` (the disks it mounts
        read-write), in one transaction: None once committed; else the first disk another
        job holds, and nothing is recorded (nor is anything if this raises).

        With `limits`, its account's jobs are counted first in the same transaction, as
        `insert` counts them, and `ActiveLimitReachedError` is raised (and nothing
        recorded) if the job would take its account past one.

        Each disk has one row in `disk_writers`, naming the job that claimed it last; the
        claim holds while that job is in the scheduling queue (unfinished, or finished with
        its container not yet removed: it may still write), as the disk's removal sees it
        (`held_disks.py`), and is free after that or if the job is not stored. Per disk, in a fixed
        order (two transactions claiming the same disks never wait for each other in a
        cycle):

        1. Insert the claim, doing nothing on a conflict. On PostgreSQL a conflict with a
           claim that another transaction is writing (inserting, or taking over) waits for
           that transaction to end: only one of racing inserts lands, and the others then
           read its row committed, with its job (written in the same transaction).
        2. On a conflict, read the holder and whether it is in the queue, in one statement.
           In it: in use. (Leaving the queue is final: no job leaves a finished status,
           and a finished job's container, once removed, is never made again.)
        3. Out of it: take the claim over with `UPDATE … WHERE job_id = <holder read>`, a
           compare-and-swap. On PostgreSQL (READ COMMITTED) a concurrent take-over holds
           the row lock until it ends; ours then re-checks the row as committed, finds
           another job, and updates nothing: in use. Job ids are never reused, so a claim
           that names the holder read has not changed since the read.

        On SQLite the first insert takes the database's write lock for the whole
        transaction (other connections wait in the busy handler), so nothing changes
        between the steps. Claims are never deleted: a holder out of the queue makes one
        stale."""
        ordered = sorted(set(disk_ids))
        async with (
            self._name_taken_said(job),
            self._writing(),
            self._engine.connect() as connection,
            connection.begin() as transaction,
        ):
            [over] = await self._over_limits(connection, [limits])
            if over is not None:
                await transaction.rollback()
                raise ActiveLimitReachedError(over)
            for disk_id in ordered:
                if not await self._take(connection, disk_id, job.id):
                    await transaction.rollback()
                    return disk_id
            # After the claims: a job that cannot be stored rolls them back.
            written = await connection.execute(_INSERT_RETURNING, [_row_values(job)])
            xid = written.scalars().first() if self._tracks_writers else None
        self._wrote(xid, [job])
        self._committed(job)
        return None

    async def _take(self, connection: AsyncConnection, disk_id: str, job_id: str) -> bool:
        """Whether `job_id` now holds the claim on the disk (see `insert_claiming`)."""
        claim = {"disk": disk_id, "claimant": job_id}
        if (await connection.execute(self._claim, claim)).first() is not None:
            return True
        holder = (await connection.execute(_HOLDER, claim)).first()
        if holder is None:  # a claim is never deleted: the conflict's row is there
            return False
        holder_id, held = holder
        if held:
            return False
        taken = await connection.execute(_TAKE_OVER, {**claim, "holder": holder_id})
        return taken.rowcount == 1

    async def insert_many(self, jobs: Sequence[Job]) -> None:
        """Records many jobs in one transaction (imports, the control-plane benchmark's
        history); they are not cached: nobody is waiting on them yet."""
        rows = [_row_values(job) for job in jobs]
        async with self._writing(), self._sessions.begin() as session:
            await session.execute(_INSERT, rows)
        for job in jobs:
            for listener in self._listeners:
                listener(job)

    async def get(self, job_id: str) -> Job:
        if (cached := self._cache.get(job_id)) is not None:
            self._cache.move_to_end(job_id)
            return cached
        commits = self._commits
        job = await self._first(_BY_ID, {"job_id": job_id})
        if job is None:
            raise JobNotFoundError(job_id)
        if self._commits == commits:  # else a write since the read may have changed it
            self._remember(job)
        return job

    def _remember(self, job: Job) -> None:
        self._commits += 1
        if not self._cached:
            return
        self._cache[job.id] = job
        self._cache.move_to_end(job.id)
        if len(self._cache) > CACHED_JOBS:
            self._cache.popitem(last=False)

    def _wrote(self, xid: int | None, jobs: Sequence[Job]) -> None:
        """Notes jobs that the committed transaction `xid` wrote (shared database)."""
        if xid is None:
            return
        self._own_xids.append(xid)
        for job in jobs:
            self._written[job.id] = (xid, job)
            self._written.move_to_end(job.id)
        while len(self._written) > CACHED_JOBS:
            self._written.popitem(last=False)

    def _as_written(self, job_id: str, writer_xid: int | None) -> Job | None:
        """The job as this process holds it, if the row still holds the same: in memory
        where this process is the one writer, else if this process's transaction
        `writer_xid` was the row's last writer."""
        if self._cached:
            return self._cache.get(job_id)
        written = self._written.get(job_id)
        return written[1] if written is not None and written[0] == writer_xid else None

    async def find_by_name(self, owner: str, name: str) -> Job | None:
        """The owner's newest job of that name (names may repeat once a job has finished)."""
        return await self._first(_NEWEST_BY_NAME, {"owner": owner, "name": name})

    async def active_with_name(self, owner: str, name: str) -> Job | None:
        return await self._first(_ACTIVE_BY_NAME, {"owner": owner, "name": name})

    async def _first(self, statement: _ListedSelect, parameters: dict[str, str]) -> Job | None:
        """The first job a listing statement reads, decoded as a listing decodes."""
        async with self._one_statement.connect() as connection:
            rows = (await connection.execute(statement, parameters)).all()
        return _decode_rows(rows)[0] if rows else None

    async def count_active(self, owner: str) -> int:
        """How many unfinished jobs the owner has (the running-jobs quota)."""
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(JobRow)
                .where(
                    JobRow.owner == owner,
                    JobRow.status.in_([str(s) for s in ACTIVE_STATUSES]),
                )
            )
            return int(count or 0)

    async def count(self, query: JobQuery) -> int:
        """How many jobs the query's filters match: one indexed COUNT, nothing decoded (the
        jobs quota asks at every submission)."""
        async with self._one_statement.connect() as connection:
            return await _count(connection, query)

    async def find(self, query: JobQuery) -> list[Job]:
        return [job async for job in self.stream(query)]

    async def stream(self, query: JobQuery, *, first_page: int = FIRST_PAGE) -> AsyncIterator[Job]:
        """The jobs `query` matches, in its order, one at a time (see `pages`)."""
        async for page in self.pages(query, first_page=first_page):
            for job in page:
                yield job

    async def pages(
        self, query: JobQuery, *, first_page: int = FIRST_PAGE
    ) -> AsyncIterator[list[Job]]:
        """The jobs `query` matches, in its order, read a page at a time: the caller may
        stop at any point, and only the pages it reached are read. `first_page` sizes the
        first read (a caller that wants ten jobs asks for ten rows, not for a page); the
        pages after it hold `PAGE` jobs.

        A page is one query of plain columns (no ORM objects), the JSON documents as text;
        jobs this process holds in memory are taken from there, the others are decoded in a
        worker thread (decoding is a large part of a listing's CPU, which must not hold up
        other requests) and kept in memory while there is room (so that the next listing
        finds them; a listing never evicts a job, so one longer than the cache does not
        flush it). From the second page on, the next page is read while the caller handles
        this one."""
        statement = select(*_LISTED).where(*_conditions(query))
        if query.reverse:
            statement = statement.order_by(JobRow.created_at.desc(), JobRow.id.desc())
        else:
            statement = statement.order_by(JobRow.created_at, JobRow.id)
        key = tuple_(JobRow.created_at, JobRow.id)

        async def read(after: _ListedRow | None, size: int) -> Sequence[_ListedRow]:
            page = statement
            if after is not None:
                # Typed binds: the datetime must be stored the way the column stores it.
                last = tuple_(
                    literal(after[4], JobRow.created_at.type), literal(after[0], JobRow.id.type)
                )
                page = page.where(key < last if query.reverse else key > last)
            async with self._one_statement.connect() as connection:
                return (await connection.execute(page.limit(size))).all()

        size = max(1, first_page)
        self._listings += 1
        listing = self._listings  # this listing's number (see `_keep`)
        rows = await read(None, size)
        reading: asyncio.Future[Sequence[_ListedRow]] | None = None
        first = True
        try:
            while True:
                more = len(rows) == size
                if more and not first:  # after the first page a limit may be met already
                    reading = asyncio.ensure_future(read(rows[-1], PAGE))
                cached = [self._held(row, listing) for row in rows]
                if any(job is None for job in cached):
                    jobs = await asyncio.to_thread(_decode_listed, rows, cached)
                    self._keep(jobs, rows, listing)
                    yield jobs
                else:
                    yield [job for job in cached if job is not None]
                if not more:
                    return
                rows = await (reading or read(rows[-1], PAGE))
                reading, size, first = None, PAGE, False
        finally:
            if reading is not None:
                reading.cancel()  # the caller stopped early: the next page is not needed

    def _held(self, row: _ListedRow, listing: int) -> Job | None:
        """The job of a listing's row, if this process holds it as that row stores it."""
        if self._cached:
            return self._cache.get(row[0])
        entry = self._listed.get(row[0])
        if entry is None or entry[0] != tuple(row):  # not seen, or changed since
            return None
        self._listed[row[0]] = (entry[0], entry[1], listing)
        self._listed.move_to_end(row[0])
        return entry[1]

    def _keep(self, jobs: Sequence[Job], rows: Sequence[_ListedRow], listing: int) -> None:
        """Jobs a listing read, into the cache while it has room (no eviction, no revision:
        nothing changed).

        A job written since the read is not replaced by its older read: a commit puts the
        job in the cache, and it could have left since only by an eviction, which leaves
        the cache full, and so it stays (nothing else removes jobs): no room, nothing kept.

        On a shared database, beside the row each was read from (`_held` checks the row
        before it reuses the job), the least recently used making room for a new one, but
        never one that this listing (`listing`, its number) has used."""
        if not self._cached:
            for job, row in zip(jobs, rows, strict=True):
                if job.id in self._listed or len(self._listed) < CACHED_JOBS:
                    self._listed[job.id] = (tuple(row), job, listing)
                    self._listed.move_to_end(job.id)
                elif next(iter(self._listed.values()))[2] != listing:
                    # Full: the least recently used job goes, unless this very listing
                    # used it (then all are this listing's: one longer than the cache
                    # would otherwise evict what its next run needs first, and find none).
                    self._listed.popitem(last=False)
                    self._listed[job.id] = (tuple(row), job, listing)
            return
        for job in jobs:
            if len(self._cache) >= CACHED_JOBS:
                return
            self._cache.setdefault(job.id, job)

    async def scheduling_queue(self) -> list[Job]:
        """Jobs the scheduler must look at: active ones and finished ones with a container."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(*_LISTED)
                    .where(_IN_SCHEDULING_QUEUE)
                    .order_by(JobRow.priority.desc(), JobRow.created_at, JobRow.id)
                )
            ).all()
        return _decode_rows(rows)

    async def queued_specs(self, containing: str) -> list[JobSpec]:
        """The specs of the jobs in the scheduling queue whose stored document contains
        `containing` (and maybe a few more: SQLite's LIKE ignores ASCII case). The
        database picks them; only those are decoded, in a worker thread: a question asked
        every minute (which disks are in use) costs little whatever the queue's size."""
        spec = cast(JobRow.spec, Text)
        async with self._one_statement.connect() as connection:
            found = await connection.execute(
                select(spec).where(_IN_SCHEDULING_QUEUE, spec.contains(containing, autoescape=True))
            )
            texts = found.scalars().all()
        return await asyncio.to_thread(lambda: [decode_spec_json(text) for text in texts])

    async def scheduling_changes(
        self, since: int | None, also: Collection[str] = ()
    ) -> SchedulingChanges:
        """What changed for the scheduler since the read that returned the mark `since`.

        On PostgreSQL: a new mark, and every job (in any status) written by a transaction
        that the read of `since` could not see yet, plus the jobs `also` names; with no
        mark, the whole `scheduling_queue`. Of a changed job that is no longer the
        scheduler's (finished without a container) only the id comes, in `left`: decoding
        it would be wasted, and another process finishing or importing many jobs would
        cost every pass that much. The mark is the xmin of the snapshot the rows
        are read in: every transaction not visible to it has an id at least that (committed
        or not: ids are handed out in order, and a transaction below xmin has ended), and
        each row carries its last writer's id (`writer_xid`, a trigger of migration 0011).
        Rows seen by the last read may come again; a commit that lands later than a
        transaction with a higher id (ids do not commit in order) is not missed. Rows whose
        last writer was this process are left out: its subscribers had that very job when
        it committed (a burst of submissions is not read back in the next pass).

        Where transactions have no ids (SQLite): no mark, the whole `scheduling_queue`."""
        if self._single_writer:
            return SchedulingChanges(None, await self.scheduling_queue(), [])
        changed: ColumnElement[bool] = _IN_SCHEDULING_QUEUE
        if since is not None:
            changed = JobRow.writer_xid >= since
            if also:  # one array parameter, however many ids
                changed |= JobRow.id == any_(literal(sorted(also), ARRAY(String)))
            ours = sorted(xid for xid in self._own_xids if xid >= since)
            if ours:  # (older ones name no row that `writer_xid >= since` finds)
                changed &= JobRow.writer_xid != all_(literal(ours, ARRAY(BigInteger)))
        # One statement: the mark's one row, joined with the changed rows (if any).
        snapshot = select(_SNAPSHOT_XMIN.label("mark")).subquery("snapshot")
        statement = select(*_CHANGED, snapshot.c.mark).select_from(
            snapshot.outerjoin(_JOBS, changed)
        )
        async with self._one_statement.connect() as connection:
            rows = (await connection.execute(statement)).all()
        mark = int(rows[0][-1])
        # Ours below the mark can name no row that the next read's `writer_xid >= mark` finds.
        self._own_xids = deque((x for x in self._own_xids if x >= mark), OWN_TRANSACTIONS)
        found = [row for row in rows if row[0] is not None]
        return SchedulingChanges(
            mark,
            _decode_rows([cast_type(_ListedRow, row[:-2]) for row in found if row[-2]]),
            [row[0] for row in found if not row[-2]],
        )

    async def update(self, job_id: str, change: Callable[[Job], Job]) -> Job:
        """Applies `change` to the stored job under a row lock; returns the new job.

        The row lock (PostgreSQL) and this process's lock of the job (which SQLite needs)
        keep the API and the scheduler from overwriting each other's transitions.

        Group commit, as for inserts: updates asked while a commit of updates is under way
        go into the next one together (a burst of kills is one transaction, not one each).
        Each `change` sees the job as the updates before it in the batch left it, and its
        caller gets what its own change made. If the transaction fails, each update of the
        batch is tried on its own, so that one bad change fails only its own caller.
        Updates are grouped by the leader's term their callers act in, and each group is
        committed in its term: a deposed leader's change is refused however it was
        grouped, and nobody else's fails with it (db/fencing.py)."""
        done: asyncio.Future[Job] = asyncio.get_running_loop().create_future()
        self._updates.add(_Update(job_id, change, done, current_term()))
        return await done

    async def _commit_updates(self, batch: Sequence[_Update]) -> bool:
        with acting_as(batch[0].term):  # not the term of whoever started the group's task
            return await self._change(batch) is None

    async def update_many(self, job_ids: Collection[str], change: Callable[[Job], Job]) -> None:
        """`update` of many jobs in one transaction (one commit instead of one each: the
        scheduler notes why thousands of jobs wait). Jobs that are gone are skipped."""
        if (error := await self._change([_Update(i, change) for i in job_ids])) is not None:
            raise error

    async def _change(self, batch: Sequence[_Update]) -> Exception | None:
        """Applies the batch's changes in one transaction, in order; the error that failed
        the transaction, if any (then an update with a future of its own, alone in its
        batch, gets it: with several, nobody is told yet).

        Through Core, as inserts are: the rows are locked, read whole only where this
        process does not hold the job as stored (`_read_locked`), and those that changed
        are written by one executemany (two where some specs changed too)."""
        ids = sorted({u.job_id for u in batch})  # locks in one order: callers cannot deadlock
        if not ids:
            return None
        outcomes: list[Job | Exception] = []
        try:
            async with self._locked(ids):
                async with self._writing(), self._sessions.begin() as session:
                    xid, stored = await self._read_locked(session, ids)
                    jobs = {job.id: job for job in stored}
                    for one in batch:
                        outcomes.append(_outcome(one, jobs.get(one.job_id)))
                        if isinstance(job := outcomes[-1], Job):
                            jobs[job.id] = job
                    written = [(old, new) for old in stored if (new := jobs[old.id]) is not old]
                    # Most changes touch the status alone: the spec's document is not written.
                    if states := [new for old, new in written if _status_only(old, new)]:
                        await session.execute(
                            _UPDATE, [{"job_id": j.id, **_status_columns(j)} for j in states]
                        )
                    if others := [new for old, new in written if not _status_only(old, new)]:
                        await session.execute(
                            _UPDATE, [{"job_id": j.id, **_state_columns(j)} for j in others]
                        )
                self._wrote(xid, [new for _, new in written])
                for job in jobs.values():
                    self._committed(job)  # committed, and under the locks: in commit order
        except Exception as error:
            if len(batch) == 1 and batch[0].done is not None and not batch[0].done.done():
                batch[0].done.set_exception(error)
            return error
        for job in jobs.values():
            if (changed := self._changes.pop(job.id, None)) is not None:
                changed.set()  # committed: a waiter that reads the job now sees the change
        for one, outcome in zip(batch, outcomes, strict=True):
            if one.done is None or one.done.done():
                continue
            if isinstance(outcome, Job):
                one.done.set_result(outcome)
            else:
                one.done.set_exception(outcome)
        return None

    async def _read_locked(
        self, session: AsyncSession, ids: Sequence[str]
    ) -> tuple[int | None, list[Job]]:
        """The jobs `ids` names that exist, their rows locked for the transaction, and the
        transaction's id where this process tracks its writes. A row that holds a job as
        this process holds it (`_as_written`) is only locked, not read whole: a note of why
        a thousand jobs wait reads a thousand ids, not their specs."""
        lock = _LOCK_TRACKED if self._tracks_writers else _LOCK
        locked = (await session.execute(lock, {"ids": ids})).all()
        held = {job_id: self._as_written(job_id, writer) for job_id, writer, _ in locked}
        if unheld := [job_id for job_id, job in held.items() if job is None]:
            rows = (await session.execute(_BY_IDS, {"ids": unheld})).all()
            for job in _decode_rows(rows):
                held[job.id] = job
        return (
            locked[0][2] if locked else None,
            [job for job in held.values() if job is not None],
        )

    @asynccontextmanager
    async def _locked(self, job_ids: Sequence[str]) -> AsyncIterator[None]:
        """This process's locks of the jobs, taken in the order given (callers sort the ids:
        two of them cannot deadlock); one context for a batch of thousands of jobs."""
        locks = []
        for job_id in job_ids:
            lock, users = self._locks.get(job_id) or (asyncio.Lock(), 0)
            self._locks[job_id] = (lock, users + 1)
            locks.append(lock)
        held = 0
        try:
            for lock in locks:
                await lock.acquire()
                held += 1
            yield
        finally:
            for lock in locks[:held]:
                lock.release()
            for job_id in job_ids:
                lock, users = self._locks[job_id]
                if users == 1:
                    del self._locks[job_id]
                else:
                    self._locks[job_id] = (lock, users - 1)


_IN_SCHEDULING_QUEUE = JobRow.status.in_(
    [str(s) for s in ACTIVE_STATUSES]
) | JobRow.materialized.is_(True)
# xid8 as bigint, as the trigger of migration 0011 stores it.
_SNAPSHOT_XMIN = cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), Text), BigInteger)
_CURRENT_XID = cast(cast(func.pg_current_xact_id(), Text), BigInteger)


def _lock_rows(xid: ColumnElement[Any]) -> Select[str, int | None, Any]:
    """An update's first statement (`_read_locked`): the rows locked, their last writers and
    the transaction's id (NULL where writers are not tracked). Built once, as the one-job
    reads are."""
    ids: BindParameter[list[str]] = bindparam("ids", expanding=True)
    return select(JobRow.id, JobRow.writer_xid, xid).where(JobRow.id.in_(ids)).with_for_update()


_LOCK_TRACKED = _lock_rows(_CURRENT_XID)
_LOCK = _lock_rows(literal(None, BigInteger))


def _conditions(query: JobQuery) -> list[ColumnElement[bool]]:
    """The query's filters as SQL, each on an indexed column (migration 0007)."""
    conditions: list[ColumnElement[bool]] = []
    if query.statuses:
        conditions.append(JobRow.status.in_([str(s) for s in query.statuses]))
    if query.owners:
        conditions.append(JobRow.owner.in_(list(query.owners)))
    if query.name is not None:
        conditions.append(JobRow.name == query.name)
    if query.cluster_name is not None:
        conditions.append(JobRow.cluster_name == query.cluster_name)
    if query.filter_org:
        conditions.append(
            JobRow.org_name.is_(None)
            if query.org_name is None
            else JobRow.org_name == query.org_name
        )
    if query.since is not None:
        conditions.append(JobRow.created_at >= query.since)
    if query.until is not None:
        conditions.append(JobRow.created_at <= query.until)
    return conditions


async def _count(connection: AsyncConnection, query: JobQuery) -> int:
    found = await connection.scalar(
        select(func.count()).select_from(JobRow).where(*_conditions(query))
    )
    return int(found or 0)


# Inserts under one account's limit take turns on PostgreSQL: a lock per account, held until
# the transaction ends.
_ACCOUNT_TURN = text("SELECT pg_advisory_xact_lock(:key)")


def _lock_key(account: str) -> int:
    """The account as an advisory lock's key: 64 bits of a hash, the same in every process."""
    digest = hashlib.blake2b(account.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# New jobs go in through Core, not ORM objects: a group commit is one INSERT of many rows
# (SQLAlchemy's "insertmanyvalues"), without the unit of work's bookkeeping per row, which
# was most of a PostgreSQL submission's database time in the server. `update_many` likewise.
_JOBS = cast_type(Table, JobRow.__table__)
_INSERT = insert(_JOBS)
# One statement for a group (SQLAlchemy's "insertmanyvalues"), telling the id of the
# transaction that wrote it (PostgreSQL's trigger; NULL on SQLite).
_INSERT_RETURNING = insert(_JOBS).returning(_JOBS.c.writer_xid)
_UPDATE = update(_JOBS).where(_JOBS.c.id == bindparam("job_id"))

# The claims of `insert_claiming`: an insert that does nothing on a conflict (in each
# dialect's words; RETURNING tells whether it inserted), the holder's status (NULL if the
# holder is not stored), and the take-over of a stale claim.
_DISK_WRITERS = cast_type(Table, DiskWriterRow.__table__)
_CLAIM_VALUES: dict[str, BindParameter[str]] = {
    "disk_id": bindparam("disk"),
    "job_id": bindparam("claimant"),
}
_CLAIM = {
    name: dialect.insert(_DISK_WRITERS)
    .values(_CLAIM_VALUES)
    .on_conflict_do_nothing(index_elements=[_DISK_WRITERS.c.disk_id])
    .returning(_DISK_WRITERS.c.disk_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_HOLDER = (
    select(_DISK_WRITERS.c.job_id, _IN_SCHEDULING_QUEUE)
    .select_from(_DISK_WRITERS.outerjoin(_JOBS, _JOBS.c.id == _DISK_WRITERS.c.job_id))
    .where(_DISK_WRITERS.c.disk_id == bindparam("disk"))
)
_TAKE_OVER = (
    update(_DISK_WRITERS)
    .where(
        _DISK_WRITERS.c.disk_id == bindparam("disk"),
        _DISK_WRITERS.c.job_id == bindparam("holder"),
    )
    .values(job_id=bindparam("claimant"))
)


def _row_values(job: Job) -> dict[str, Any]:
    """A new job's row."""
    return {"id": job.id, "created_at": job.created_at, **_state_columns(job)}


def _state_columns(job: Job) -> dict[str, Any]:
    """The job's runtime state as columns, its spec as one document (`codec.py`)."""
    return {
        "owner": job.owner,
        "cluster_name": job.cluster_name,
        "org_name": job.org_name,
        "spec": encode_spec(job.spec),
        "name": job.spec.name,  # columns to filter and order by, never read back
        "priority": job.spec.priority.rank,
        **_status_columns(job),
    }


def _status_only(old: Job, new: Job) -> bool:
    """Whether `new` differs from `old` in `_status_columns` alone."""
    return (new.spec, new.owner, new.cluster_name, new.org_name) == (
        old.spec,
        old.owner,
        old.cluster_name,
        old.org_name,
    )


def _status_columns(job: Job) -> dict[str, Any]:
    """The columns that change with the job's status (the rest come from its spec)."""
    return {
        "status": str(job.status),
        "statuses": [encode_status(s) for s in job.statuses],
        "restarts": job.restarts,
        "materialized": job.materialized,
    }


# A listing's columns, in `_decode_listed`'s order; the documents as text, which the codec
# parses in one step (the JSON type would parse them into dicts first, on the event loop).
_LISTED = (
    JobRow.id,
    JobRow.owner,
    JobRow.cluster_name,
    JobRow.org_name,
    JobRow.created_at,
    cast(JobRow.spec, Text),
    cast(JobRow.statuses, Text),
    JobRow.restarts,
    JobRow.materialized,
)


# A scheduler's refresh: the listing's columns, the documents only of the jobs still in the
# scheduling queue, and whether each is (`scheduling_changes`).
_CHANGED = (
    *_LISTED[:5],
    case((_IN_SCHEDULING_QUEUE, _LISTED[5])),
    case((_IN_SCHEDULING_QUEUE, _LISTED[6])),
    *_LISTED[7:],
    _IN_SCHEDULING_QUEUE.label("in_queue"),
)

_ListedRow = Row[str, str, str, str | None, datetime, str, str, int, bool]
_ListedSelect = Select[str, str, str, str | None, datetime, str, str, int, bool]

# The reads of one job, built once: building a statement per call (its clauses, then its
# cache key) was a fifth of a kill's CPU on PostgreSQL, where every lookup is a query.
_BY_ID = select(*_LISTED).where(JobRow.id == bindparam("job_id"))
_BY_IDS = select(*_LISTED).where(JobRow.id.in_(bindparam("ids", expanding=True)))
_NEWEST_BY_NAME = (
    select(*_LISTED)
    .where(JobRow.owner == bindparam("owner"), JobRow.name == bindparam("name"))
    .order_by(JobRow.created_at.desc())
    .limit(1)
)
_ACTIVE_BY_NAME = (
    select(*_LISTED)
    .where(
        JobRow.owner == bindparam("owner"),
        JobRow.name == bindparam("name"),
        JobRow.status.in_([str(s) for s in ACTIVE_STATUSES]),
    )
    .limit(1)
)


def _decode_listed(rows: Sequence[_ListedRow], cached: Sequence[Job | None]) -> list[Job]:
    """The page's jobs: those held in memory as they are, the others decoded from `rows`."""
    return [
        job
        if job is not None
        else Job(
            id=row[0],
            owner=row[1],
            cluster_name=row[2],
            org_name=row[3],
            created_at=row[4],
            spec=decode_spec_json(row[5]),
            statuses=decode_statuses_json(row[6]),
            restarts=row[7],
            materialized=bool(row[8]),
        )
        for row, job in zip(rows, cached, strict=True)
    ]


def _decode_rows(rows: Sequence[_ListedRow]) -> list[Job]:
    """Jobs as stored, from a listing's columns: the documents parsed and validated in one
    step (the scheduler reads every job it is told changed, its own commits included)."""
    return _decode_listed(rows, [None] * len(rows))
