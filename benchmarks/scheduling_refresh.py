"""What one scheduler pass's read costs on PostgreSQL (issue #20, docs/performance.md).

For each size N: a fresh database (NEURO_TEST_POSTGRES_URL, or the local server at
postgresql+asyncpg://neuro:neuro@127.0.0.1:5432/neuro; created and dropped) with N pending
jobs; a `SchedulingQueue` as the leader's, on an engine of its own, loads them; then 20 times
"another process" (a second engine and repository) submits 10 jobs (`--burst N`: N jobs in one
transaction) and the queue refreshes (`SchedulingQueue.refresh`, the start of each pass).
Prints the median and the slowest refresh, and the longest the event loop was held during
one (what the API's requests would have waited). Works on older code too (point PYTHONPATH
at an export of its `src`). Not a test:

    uv run python benchmarks/scheduling_refresh.py --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from neuro_platform.db.engine import create_engine, create_session_factory
from neuro_platform.db.migrate import upgrade_to_head
from neuro_platform.jobs.entities import (
    MIB,
    Container,
    Job,
    JobSpec,
    JobStatus,
    Resources,
    StatusItem,
)
from neuro_platform.jobs.repository import JobRepository
from neuro_platform.jobs.scheduling_queue import SchedulingQueue

T = TypeVar("T")
LOCAL_POSTGRES = "postgresql+asyncpg://neuro:neuro@127.0.0.1:5432/neuro"
BASE = datetime(2026, 1, 1, tzinfo=UTC)
PASSES = 20
SUBMITTED_PER_PASS = 10


def pending(n: int) -> Job:
    when = BASE + timedelta(seconds=n)
    spec = JobSpec(Container(image="busybox", resources=Resources(cpu=0.1, memory=64 * MIB)))
    return Job(
        id=f"job-{n:07d}",
        owner="alice",
        cluster_name="default",
        org_name=None,
        spec=spec,
        created_at=when,
        statuses=(StatusItem(JobStatus.PENDING, when),),
    )


async def held_loop_during(action: Callable[[], Awaitable[T]]) -> tuple[float, float, T]:
    """Seconds the action took, the longest the event loop was held meanwhile (a task that
    only yields, timed between its turns: what the API's requests waited), and its result."""
    longest = 0.0

    async def probe() -> None:
        nonlocal longest
        while True:
            turn = time.perf_counter()
            await asyncio.sleep(0)
            longest = max(longest, time.perf_counter() - turn)

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0)
    started = time.perf_counter()
    result = await action()
    took = time.perf_counter() - started
    prober.cancel()
    return took, longest, result


async def measure(database_url: str, size: int, burst: int) -> list[tuple[float, float]]:
    ours, theirs_engine = create_engine(database_url), create_engine(database_url)
    try:
        await upgrade_to_head(ours)
        theirs = JobRepository(create_session_factory(theirs_engine), cached=False)
        for start in range(0, size, 2000):
            await theirs.insert_many([pending(n) for n in range(start, min(size, start + 2000))])
        queue = SchedulingQueue(JobRepository(create_session_factory(ours), cached=False))
        await queue.load()
        times = []
        n = size
        for _ in range(PASSES):
            if burst:  # one transaction, as a burst of submissions group-committed elsewhere
                await theirs.insert_many([pending(i) for i in range(n, n + burst)])
                n += burst
            for _ in range(0 if burst else SUBMITTED_PER_PASS):
                await theirs.insert(pending(n))
                n += 1
            took, held, _ = await held_loop_during(queue.refresh)
            times.append((took, held))
        assert len(list(queue.waiting())) == n  # every job submitted is in the queue
        return times
    finally:
        await ours.dispose()
        await theirs_engine.dispose()


async def main(sizes: list[int], burst: int) -> None:
    server = make_url(os.environ.get("NEURO_TEST_POSTGRES_URL", LOCAL_POSTGRES))
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        for size in sizes:
            name = f"neuro_refresh_{uuid.uuid4().hex[:12]}"
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = server.set(database=name).render_as_string(hide_password=False)
                times = await measure(url, size, burst)
            finally:
                async with admin.connect() as connection:
                    await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            took = [t for t, _ in times]
            held = [h for _, h in times]
            print(
                f"{size:>7,} pending, {burst or SUBMITTED_PER_PASS} new a pass: refresh median"
                f" {statistics.median(took) * 1000:8.1f} ms, max {max(took) * 1000:8.1f} ms;"
                f" event loop held up to {max(held) * 1000:6.1f} ms"
                f" (median of the passes {statistics.median(held) * 1000:.1f} ms)"
            )
    finally:
        await admin.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="pending jobs, comma-separated")
    parser.add_argument(
        "--burst", type=int, default=0, help="jobs another process adds a pass, in one transaction"
    )
    args = parser.parse_args()
    asyncio.run(main([int(size) for size in args.sizes.split(",")], args.burst))
