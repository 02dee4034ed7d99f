"""Usage samples of the jobs whose chart is open, for the web console's charts.

A chart asks for its job's samples every `interval_s`; each ask watches the job for
`WATCH_PASSES` passes more. One loop samples the watched jobs every `interval_s` (one engine
stats call per job) and sleeps while none is watched, so a server nobody looks at asks its
engine nothing. The samples are kept in memory: per job at most `MAX_SAMPLES`, beyond which
every other sample is dropped, so a chart spans all the time it was watched, more coarsely as
it grows; the newest `MAX_JOBS` jobs are kept. A restart of the server forgets the history
(it is a chart, not an account).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

SAMPLE_INTERVAL_S = 5.0
MAX_SAMPLES = 2000
MAX_JOBS = 1000
# A chart asks every interval: a job is watched while its chart asked within this many passes.
WATCH_PASSES = 3


class Stats(Protocol):
    """What the engine's sample (`orchestrator.ContainerStats`) tells."""

    @property
    def cpu(self) -> float: ...
    @property
    def memory_bytes(self) -> int: ...
    @property
    def gpu_duty_cycle(self) -> int | None: ...
    @property
    def gpu_memory_bytes(self) -> int | None: ...


@dataclass(frozen=True)
class UsageSample:
    time: float  # unix seconds
    cpu: float
    memory_bytes: int
    gpu_duty_cycle: int | None
    gpu_memory_bytes: int | None


class UsageHistory:
    def __init__(
        self,
        stats: Callable[[str], Awaitable[Stats | None]],
        interval_s: float = SAMPLE_INTERVAL_S,
    ) -> None:
        self._stats = stats
        self._interval_s = interval_s
        self._samples: OrderedDict[str, list[UsageSample]] = OrderedDict()
        self._watched: dict[str, float] = {}  # job id -> monotonic time its watch ends
        self._someone_watches = asyncio.Event()

    def watch(self, job_id: str) -> None:
        """The job's chart is open: sample the job from the next pass on."""
        self._watched[job_id] = time.monotonic() + WATCH_PASSES * self._interval_s
        self._someone_watches.set()

    def _watched_now(self) -> list[str]:
        now = time.monotonic()
        self._watched = {job_id: end for job_id, end in self._watched.items() if end > now}
        if not self._watched:
            self._someone_watches.clear()
        return list(self._watched)

    def samples(self, job_id: str) -> list[UsageSample]:
        return list(self._samples.get(job_id, ()))

    def record(self, job_id: str, stats: Stats, at: float) -> None:
        samples = self._samples.setdefault(job_id, [])
        self._samples.move_to_end(job_id)
        samples.append(
            UsageSample(
                at, stats.cpu, stats.memory_bytes, stats.gpu_duty_cycle, stats.gpu_memory_bytes
            )
        )
        if len(samples) > MAX_SAMPLES:
            del samples[1::2]  # keeps the first and the newest: the whole life, coarser
        while len(self._samples) > MAX_JOBS:
            self._samples.popitem(last=False)

    async def sample_once(self) -> None:
        job_ids = self._watched_now()
        # A job that does not run (yet, or any more) has no stats: None, or the engine's error.
        found = await asyncio.gather(*map(self._stats, job_ids), return_exceptions=True)
        now = time.time()
        for job_id, stats in zip(job_ids, found, strict=True):
            if stats is not None and not isinstance(stats, BaseException):
                self.record(job_id, stats, now)

    async def run(self) -> None:
        while True:
            await self._someone_watches.wait()
            try:
                await self.sample_once()
            except Exception:  # the engine may be down: the next pass tries again
                log.exception("sampling the jobs' usage failed")
            await asyncio.sleep(self._interval_s)
