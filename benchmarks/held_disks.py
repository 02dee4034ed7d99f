"""Which disks the queued jobs hold (`jobs/held_disks.py`: `disk rm`, and the disk refresh
every minute), against decoding the whole scheduling queue, in one run (docs/performance.md).

For each backend (SQLite in a temporary file; PostgreSQL at NEURO_TEST_POSTGRES_URL, or the
local server at postgresql+asyncpg://neuro:neuro@127.0.0.1:5432/neuro, in a database created
and dropped): N pending jobs, one in `--mounting` of them mounting a disk. Then, alternated
`--repeat` times, the platform's question (`disks_held_by_jobs`) and the baseline (every
queued job read and decoded, `JobRepository.scheduling_queue`, then its disks collected).
Prints the best time of each, their ratio, and the longest the event loop was held during
each (`scheduling_refresh.held_loop_during`). Not a test:

    uv run python benchmarks/held_disks.py --queued 5000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scheduling_refresh import LOCAL_POSTGRES, held_loop_during
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from neuro_platform.db.engine import create_engine, create_session_factory
from neuro_platform.db.migrate import upgrade_to_head
from neuro_platform.jobs.entities import (
    MIB,
    Container,
    DiskVolume,
    Job,
    JobSpec,
    JobStatus,
    Resources,
    StatusItem,
)
from neuro_platform.jobs.held_disks import disks_held_by_jobs
from neuro_platform.jobs.repository import JobRepository

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def pending(n: int, mounting: int) -> Job:
    when = BASE + timedelta(seconds=n)
    disks = (
        (DiskVolume(f"disk://default/alice/d{n}", "/data", disk_id=f"disk-{n}"),)
        if n % mounting == 0
        else ()
    )
    container = Container(
        image="busybox",
        resources=Resources(cpu=0.1, memory=64 * MIB),
        env={"DATA": "/data", "STEP": str(n)},
        disk_volumes=disks,
    )
    return Job(
        id=f"job-{n:07d}",
        owner="alice",
        cluster_name="default",
        org_name=None,
        spec=JobSpec(container),
        created_at=when,
        statuses=(StatusItem(JobStatus.PENDING, when),),
    )


async def decode_all(repository: JobRepository) -> Collection[str]:
    """The baseline: every queued job decoded, on the event loop, as before."""
    return {
        v.disk_id
        for job in await repository.scheduling_queue()
        for v in job.spec.container.disk_volumes
    }


async def timed(action: Callable[[], Awaitable[Collection[str]]]) -> tuple[float, float, int]:
    """Seconds the action took, the longest the event loop was held meanwhile, disks found."""
    took, longest, found = await held_loop_during(action)
    return took, longest, len(found)


async def measure(database_url: str, args: argparse.Namespace) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade_to_head(engine)
        repository = JobRepository(create_session_factory(engine), cached=False)
        for start in range(0, args.queued, 2000):
            batch = range(start, min(args.queued, start + 2000))
            await repository.insert_many([pending(n, args.mounting) for n in batch])
        results: dict[str, list[tuple[float, float, int]]] = {"held": [], "decode all": []}
        for _ in range(args.repeat):
            results["held"].append(await timed(lambda: disks_held_by_jobs(repository)))
            results["decode all"].append(await timed(lambda: decode_all(repository)))
    finally:
        await engine.dispose()
    best = {name: min(runs) for name, runs in results.items()}
    assert best["held"][2] == best["decode all"][2], best  # the same disks, found either way
    for name, (took, longest, found) in best.items():
        held_up = max(run[1] for run in results[name])
        print(
            f"  {name:<11} best {took * 1000:7.1f} ms, loop held up to {held_up * 1000:6.1f} ms"
            f" ({found} disks; longest in the best run {longest * 1000:.1f} ms)"
        )
    print(f"  decode all / held: {best['decode all'][0] / best['held'][0]:.1f}x")


@asynccontextmanager
async def database(backend: str) -> AsyncIterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="held-disks-") as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'platform.db'}"
        return
    server = make_url(os.environ.get("NEURO_TEST_POSTGRES_URL", LOCAL_POSTGRES))
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    name = f"neuro_held_{uuid.uuid4().hex[:12]}"
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def main(args: argparse.Namespace) -> None:
    print(f"{args.queued:,} pending jobs, one in {args.mounting} mounting a disk")
    for backend in args.backends.split(","):
        print(backend)
        async with database(backend) as url:
            await measure(url, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=5000, help="pending jobs")
    parser.add_argument("--mounting", type=int, default=50, help="one job in this many mounts")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite, postgres")
    asyncio.run(main(parser.parse_args()))
