"""Web console benchmark: the jobs page with 1,000 jobs (target: under 1 s server time), and
what its live part costs once nothing changes.

Starts a platform server (`running_platform`, no jobs run), writes 1,000 finished jobs of
alice straight into its database through the jobs repository (the page lists them through
`JobsService.list`, which reads the database each time, like any new page), then asks on
loopback, signed in with a Bearer token:

* `GET /console/jobs` (the whole page: one query of all 1,000 jobs, the permission filter,
  the newest 50 rendered) and `GET /console/jobs?page=20` (the oldest);
* `GET /console/jobs/rows` (what the page's htmx asks every 2 s) with the ETag it got back,
  answered 304 without touching the database.

Loopback client time is the server's time plus well under a millisecond. Prints the median
and the worst of each. Not a test: run it by hand,

    uv run python benchmarks/console.py               # 1,000 jobs, 20 rounds
    uv run python benchmarks/console.py --jobs 5000 --rounds 5
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from neuro_platform.db.engine import create_engine, create_session_factory
from neuro_platform.jobs.entities import (
    Container,
    Job,
    JobSpec,
    JobStatus,
    Resources,
    StatusItem,
)
from neuro_platform.jobs.repository import JobRepository
from neuro_platform.testing.fixtures import USERS
from neuro_platform.testing.server import PlatformServer, running_platform


async def insert_jobs(server: PlatformServer, count: int) -> None:
    engine = create_engine(server.settings().database_url)
    try:
        repository = JobRepository(create_session_factory(engine))
        start = datetime.now(UTC) - timedelta(days=30)
        for n in range(count):
            created = start + timedelta(minutes=n)
            await repository.insert(
                Job(
                    id=f"job-{uuid.uuid4()}",
                    owner="alice",
                    cluster_name="default",
                    org_name=None,
                    spec=JobSpec(
                        container=Container(
                            image="neuro-base/busybox:latest",
                            resources=Resources(cpu=0.5, memory=64 * 2**20),
                            command=f"echo {n}",
                        ),
                        name=f"bench-{n}",
                        tags=("bench", f"batch-{n % 10}"),
                        preset_name="cpu-small",
                        max_run_time_minutes=60,
                    ),
                    created_at=created,
                    statuses=(
                        StatusItem(JobStatus.PENDING, created, reason="Creating"),
                        StatusItem(JobStatus.RUNNING, created + timedelta(seconds=2)),
                        StatusItem(
                            JobStatus.SUCCEEDED, created + timedelta(seconds=30), exit_code=0
                        ),
                    ),
                )
            )
    finally:
        await engine.dispose()


def fetch(url: str, token: str, etag: str | None = None) -> tuple[float, int, str | None]:
    headers = {"Authorization": f"Bearer {token}"}
    if etag is not None:
        headers["If-None-Match"] = etag
    request = urllib.request.Request(url, headers=headers)
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request) as response:
            response.read()
            status, tag = response.status, response.headers.get("ETag")
    except urllib.error.HTTPError as e:  # 304 arrives as an "error"
        status, tag = e.code, e.headers.get("ETag")
    return time.perf_counter() - start, status, tag


def report(name: str, seconds: list[float]) -> None:
    print(
        f"{name:40s} median {statistics.median(seconds) * 1000:7.1f} ms   "
        f"worst {max(seconds) * 1000:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_platform(Path(tmp), users=USERS) as server,
    ):
        asyncio.run(insert_jobs(server, args.jobs))
        token = server.issue_token("alice")
        base = server.base_url / "console" / "jobs"
        last_page = -(-args.jobs // 50)
        for name, url in [
            ("jobs page (newest 50)", str(base)),
            (f"jobs page {last_page} (oldest)", str(base.with_query(page=last_page))),
            ("jobs page, filtered by tag", str(base.with_query(tag="batch-3"))),
        ]:
            fetch(url, token)  # warm-up
            times = []
            for _ in range(args.rounds):
                seconds, status, _ = fetch(url, token)
                assert status == 200, status
                times.append(seconds)
            report(name, times)
        rows = str(base / "rows")
        _, _, etag = fetch(rows, token)
        times = []
        for _ in range(args.rounds):
            seconds, status, _ = fetch(rows, token, etag)
            assert status == 304, status
            times.append(seconds)
        report("live rows, unchanged (304)", times)
        print(f"{args.jobs} jobs, {args.rounds} rounds each")


if __name__ == "__main__":
    main()
