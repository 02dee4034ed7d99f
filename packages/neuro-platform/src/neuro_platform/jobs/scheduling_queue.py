"""The jobs the scheduler looks after, in memory, kept current by the repository's events.

A scheduler pass used to read every active job from the database and decode it, on the event
loop: with thousands of pending jobs each pass blocked the API for most of a second, and every
submission woke one. This view is read from the database once (`load`, at start), then follows
every commit of the jobs table (`JobRepository.subscribe`; the server is the only writer of
that table, see `repository.py`), so a pass costs what changed plus a walk of the waiting jobs
in memory, in placement order, which the bisected order list keeps without sorting.

Where several server processes share a PostgreSQL database (docs/scale-out.md), the others
write the jobs table too and this process's commits are not all there is: there the queue
follows nothing and is read again at the start of every pass (`refresh`), which costs one
indexed query of the active jobs.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterator
from datetime import datetime

from .entities import Job, JobStatus
from .repository import JobRepository

_WAITING = (JobStatus.PENDING, JobStatus.SUSPENDED)

OrderKey = tuple[int, datetime, str]


class SchedulingQueue:
    def __init__(self, repository: JobRepository) -> None:
        self._repository = repository
        self._running: dict[str, Job] = {}
        self._collectable: dict[str, Job] = {}  # finished, their container maybe still there
        self._waiting: dict[str, Job] = {}
        self._order: list[OrderKey] = []  # the waiting jobs in placement order
        self._loaded = False
        self._early: dict[str, Job] = {}  # changes committed while `load` was reading
        # Following commits is all it takes only where this process is the one writer.
        self._follows_commits = repository.cached
        if self._follows_commits:
            repository.subscribe(self._on_change)

    @property
    def loaded(self) -> bool:
        return self._loaded

    async def load(self) -> None:
        """Reads the jobs to look after; a change committed meanwhile wins over the read."""
        for job in await self._repository.scheduling_queue():
            if job.id not in self._early:
                self._put(job)
        for job in self._early.values():
            self._put(job)
        self._early.clear()
        self._loaded = True

    async def refresh(self) -> None:
        """Reads the jobs again where other processes write them too; else nothing to do."""
        if self._follows_commits:
            return
        self._running.clear()
        self._collectable.clear()
        self._waiting.clear()
        self._order.clear()
        await self.load()

    def all(self) -> list[Job]:
        return [*self._running.values(), *self._collectable.values(), *self._waiting.values()]

    def running(self) -> list[Job]:
        return list(self._running.values())

    def collectable(self) -> list[Job]:
        return list(self._collectable.values())

    def waiting(self, skip: Collection[str] = ()) -> Iterator[Job]:
        """Pending and suspended jobs, highest priority first, then oldest first, each as it
        is when reached: the caller may await between jobs (a job that changed meanwhile is
        seen as changed, one that stopped waiting is left out)."""
        for _, _, job_id in list(self._order):
            job = self._waiting.get(job_id)
            if job is not None and job_id not in skip:
                yield job

    def _on_change(self, job: Job) -> None:
        if self._loaded:
            self._put(job)
        else:
            self._early[job.id] = job

    def _put(self, job: Job) -> None:
        self._running.pop(job.id, None)
        self._collectable.pop(job.id, None)
        if (old := self._waiting.pop(job.id, None)) is not None:
            key = _key(old)
            index = bisect.bisect_left(self._order, key)
            if index < len(self._order) and self._order[index] == key:
                del self._order[index]
        status = job.status
        if status is JobStatus.RUNNING:
            self._running[job.id] = job
        elif status in _WAITING:
            self._waiting[job.id] = job
            bisect.insort(self._order, _key(job))
        elif job.materialized:
            self._collectable[job.id] = job


def _key(job: Job) -> OrderKey:
    return (-job.spec.priority.rank, job.created_at, job.id)
