"""Usage samples of every running job over its life, for the web console's charts.

One loop samples the running jobs every `interval_s` (one query of the running jobs and one
engine stats call per job, whoever is looking), and keeps the samples in memory: per job at
most `MAX_SAMPLES`, beyond which every other sample is dropped, so a chart always spans the
whole life, more coarsely as it grows; the newest `MAX_JOBS` jobs are kept. A restart of the
server forgets the history (it is a chart, not an account).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

SAMPLE_INTERVAL_S = 5.0
MAX_SAMPLES = 2000
MAX_JOBS = 1000


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
        running_job_ids: Callable[[], Awaitable[Sequence[str]]],
        stats: Callable[[str], Awaitable[Stats | None]],
        interval_s: float = SAMPLE_INTERVAL_S,
    ) -> None:
        self._running_job_ids = running_job_ids
        self._stats = stats
        self._interval_s = interval_s
        self._samples: OrderedDict[str, list[UsageSample]] = OrderedDict()

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
        job_ids = await self._running_job_ids()
        found = await asyncio.gather(*map(self._stats, job_ids), return_exceptions=True)
        now = time.time()
        for job_id, stats in zip(job_ids, found, strict=True):
            if stats is not None and not isinstance(stats, BaseException):
                self.record(job_id, stats, now)

    async def run(self) -> None:
        while True:
            try:
                await self.sample_once()
            except Exception:  # the engine may be down: the next pass tries again
                log.exception("sampling the jobs' usage failed")
            await asyncio.sleep(self._interval_s)
