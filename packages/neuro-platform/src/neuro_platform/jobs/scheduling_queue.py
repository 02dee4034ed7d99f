"""The jobs the scheduler looks after, in memory, kept current by the repository's events.

A scheduler pass used to read every active job from the database and decode it, on the event
loop: with thousands of pending jobs each pass blocked the API for most of a second, and every
submission woke one. This view is read from the database once (`load`, at start), then follows
every commit of the jobs table (`JobRepository.subscribe`; the server is the only writer of
that table, see `repository.py`), so a pass costs what changed plus a walk of the waiting jobs
in memory, in placement order, which bisected order lists keep without sorting.

A pass does not walk every waiting job either. Once a cluster's node is full for
non-preemptible jobs, the jobs behind the first one that does not fit all wait for room; a
job the walk found there with nothing left to write ("waiting for room" already noted) is
*parked*. Later walks of that cluster leave parked jobs out once the cluster is full again,
so a pass costs what changed, not the backlog: any commit of a job, or its schedule timeout
coming due, puts it back in the walk (`unpark_due`), and parked jobs ahead of the point
where the node is full are walked as any other (room came back: they may start).

Where several server processes share a PostgreSQL database (docs/scale-out.md), the others
write the jobs table too. There the queue still applies this process's commits at once (its
own submissions wait for no read), and at the start of every pass (`refresh`) reads the rows
that changed since the last read, in any status (`JobRepository.scheduling_changes`): a pass
costs O(jobs changed), not O(active jobs). "Changed since" is a transaction-id mark, not a
sequence or a timestamp: those are taken before a transaction commits, and a transaction that
took a lower value but committed after the read would be missed for good; every transaction
the last read could not see has an id at least the xmin of that read's snapshot. No periodic
full read is needed on top (nothing else changes the table: jobs are never deleted).

Which of two versions of a job is newer cannot be told from the jobs themselves: a commit of
this process whose event arrives while a read is under way wins over that read (as in
`load`), and every job this process commits is read again by the next refresh, whatever its
mark, so that a commit of another process that came between ours and our event is not
hidden by our older event for longer than a pass.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime, timedelta

from .entities import Job, JobStatus
from .repository import JobRepository

_WAITING = (JobStatus.PENDING, JobStatus.SUSPENDED)
# Jobs committed here and waiting to be read again (shared database): a pass under a burst
# of submissions holds about a pass's worth; past this, the next read is a whole one.
MAX_UNCONFIRMED = 10_000

OrderKey = tuple[int, datetime, str]


class SchedulingQueue:
    def __init__(self, repository: JobRepository) -> None:
        self._repository = repository
        self._running: dict[str, Job] = {}
        self._collectable: dict[str, Job] = {}  # finished, their container maybe still there
        self._waiting: dict[str, Job] = {}
        # The waiting jobs by cluster, in placement order: those a walk looks at, and those
        # parked behind a full node (see the module's docstring).
        self._open: dict[str, list[OrderKey]] = {}
        self._parked: dict[str, list[OrderKey]] = {}
        self._parked_ids: set[str] = set()
        self._deadlines: list[tuple[datetime, str]] = []  # parked jobs' schedule timeouts
        self._loaded = False
        # Other processes write the table too (see the module's docstring).
        self._shared = not repository.cached
        # Changes committed while a read is under way: they win over it. Where this process
        # is the one writer, also those committed before `load` (which then read nothing
        # newer); where it is not, `load` reads them (a process that never leads, and so
        # never loads, keeps nothing).
        self._early: dict[str, Job] | None = None if self._shared else {}
        self._mark: int | None = None  # where the next refresh reads from (shared only)
        self._unconfirmed: set[str] = set()  # committed here, not read since (shared only)
        self._overflow = False  # too many of those: the next read is whole (shared only)
        repository.subscribe(self._on_change)

    @property
    def loaded(self) -> bool:
        return self._loaded

    async def load(self) -> None:
        """Reads the jobs to look after; a change committed meanwhile wins over the read."""
        if self._shared:
            await self._read(whole=True)
            return
        self._early = self._early if self._early is not None else {}
        try:
            jobs = await self._repository.scheduling_queue()
        finally:
            early, self._early = self._early, None
        self._apply(jobs, [], early, whole=True)

    async def refresh(self) -> None:
        """Reads what other processes changed since the last read; where this process is
        the one writer, nothing to do."""
        if self._shared:
            await self._read(whole=self._mark is None or self._overflow)

    async def _read(self, *, whole: bool) -> None:
        # The jobs committed here before the read starts are confirmed by it (it sees their
        # commits, or later ones); those committed during it stay for the next read.
        also, self._unconfirmed = self._unconfirmed, set()
        overflow, self._overflow = self._overflow, False
        self._early = {}
        try:
            mark, jobs, left = await self._repository.scheduling_changes(
                None if whole else self._mark, also
            )
        except BaseException:
            self._unconfirmed |= also
            self._overflow |= overflow
            raise
        finally:
            early, self._early = self._early, None
        self._apply(jobs, left, early, whole=whole or mark is None)
        self._mark = mark

    def _apply(
        self, jobs: list[Job], left: list[str], early: dict[str, Job], *, whole: bool
    ) -> None:
        """`jobs` as read and the `left` ones dropped, except those committed here
        meanwhile; `whole`: all there is."""
        if whole:
            self._running.clear()
            self._collectable.clear()
            self._waiting.clear()
            self._open.clear()
            self._parked.clear()
            self._parked_ids.clear()
            self._deadlines.clear()
        for job in jobs:
            if job.id not in early:
                self._put(job)
        for job_id in left:
            if job_id not in early:
                self._drop(job_id)
        for job in early.values():
            self._put(job)
        self._loaded = True

    def all(self) -> list[Job]:
        return [*self._running.values(), *self._collectable.values(), *self._waiting.values()]

    def running(self) -> list[Job]:
        return list(self._running.values())

    def collectable(self) -> list[Job]:
        return list(self._collectable.values())

    def clusters(self) -> list[str]:
        """The clusters that have waiting jobs."""
        names = dict.fromkeys([*self._open, *self._parked])
        return [name for name in names if self._open.get(name) or self._parked.get(name)]

    def waiting(self, skip: Collection[str] = ()) -> Iterator[Job]:
        """Every waiting job, parked or not: each cluster's in placement order."""
        for cluster in self.clusters():
            yield from self.walk(cluster, skip)

    def walk(self, cluster: str, skip: Collection[str] = ()) -> Walk:
        """The cluster's waiting jobs for one pass (`Walk`), leaving out those in `skip`."""
        return Walk(self, cluster, skip)

    def park(self, job: Job) -> None:
        """Leaves `job` out of walks past a full node until it changes or its schedule
        timeout comes due; a job that changed since the walk read it is not parked."""
        if self._waiting.get(job.id) is not job or job.id in self._parked_ids:
            return
        key = _key(job)
        _remove(self._open[job.cluster_name], key)
        bisect.insort(self._parked.setdefault(job.cluster_name, []), key)
        self._parked_ids.add(job.id)
        if (timeout := job.spec.schedule_timeout) is not None:
            heapq.heappush(self._deadlines, (job.created_at + timedelta(seconds=timeout), job.id))

    def unpark_due(self, now: datetime) -> None:
        """Puts back in the walk the parked jobs whose schedule timeout is due."""
        while self._deadlines and self._deadlines[0][0] < now:
            _, job_id = heapq.heappop(self._deadlines)
            if job_id in self._parked_ids:
                self._put(self._waiting[job_id])

    def next_waiting(
        self, cluster: str, after: OrderKey | None, *, parked: bool
    ) -> OrderKey | None:
        """The key of the cluster's first waiting job after `after`; parked ones too if asked."""
        found = _next(self._open.get(cluster, ()), after)
        if parked:
            other = _next(self._parked.get(cluster, ()), after)
            if found is None or (other is not None and other < found):
                found = other
        return found

    def job(self, job_id: str) -> Job | None:
        return self._waiting.get(job_id)

    def _on_change(self, job: Job) -> None:
        reading = self._early is not None
        if self._early is not None:
            self._early[job.id] = job
        if self._loaded:
            self._put(job)
        if not self._shared or self._overflow or not (self._loaded or reading):
            return
        if len(self._unconfirmed) < MAX_UNCONFIRMED:
            self._unconfirmed.add(job.id)
        else:  # a process that stopped leading: one whole read when it leads again
            self._unconfirmed.clear()
            self._overflow = True

    def _put(self, job: Job) -> None:
        self._drop(job.id)
        status = job.status
        if status is JobStatus.RUNNING:
            self._running[job.id] = job
        elif status in _WAITING:
            self._waiting[job.id] = job
            bisect.insort(self._open.setdefault(job.cluster_name, []), _key(job))
        elif job.materialized:
            self._collectable[job.id] = job

    def _drop(self, job_id: str) -> None:
        self._running.pop(job_id, None)
        self._collectable.pop(job_id, None)
        if (old := self._waiting.pop(job_id, None)) is not None:
            lists = self._parked if old.id in self._parked_ids else self._open
            _remove(lists[old.cluster_name], _key(old))
            self._parked_ids.discard(old.id)


class Walk:
    """One pass's walk of a cluster's waiting jobs, in placement order (priority, then
    submission). Each job is read as it is when reached: the caller may await between jobs
    (a job that changed meanwhile is seen as changed, one that stopped waiting is left out).
    After `full()` (the node has no room for the next non-preemptible job) parked jobs are
    left out: they only wait for room."""

    def __init__(self, queue: SchedulingQueue, cluster: str, skip: Collection[str]) -> None:
        self._queue = queue
        self._cluster = cluster
        self._skip = skip
        self._after: OrderKey | None = None
        self.is_full = False

    def full(self) -> None:
        self.is_full = True

    def __iter__(self) -> Iterator[Job]:
        return self

    def __next__(self) -> Job:
        while True:
            key = self._queue.next_waiting(self._cluster, self._after, parked=not self.is_full)
            if key is None:
                raise StopIteration
            self._after = key
            job = self._queue.job(key[2])
            if job is not None and job.id not in self._skip:
                return job


def _key(job: Job) -> OrderKey:
    return (-job.spec.priority.rank, job.created_at, job.id)


def _next(keys: Sequence[OrderKey], after: OrderKey | None) -> OrderKey | None:
    index = 0 if after is None else bisect.bisect_right(keys, after)
    return keys[index] if index < len(keys) else None


def _remove(keys: list[OrderKey], key: OrderKey) -> None:
    index = bisect.bisect_left(keys, key)
    if index < len(keys) and keys[index] == key:
        del keys[index]
