"""Control-plane benchmark (issue #20): how the API's cost grows with the job history.

Starts our server (SQLite, then PostgreSQL: NEURO_TEST_POSTGRES_URL, or the local server at
postgresql+asyncpg://neuro:neuro@127.0.0.1:5432/neuro; a fresh database is created and dropped)
on a node with room for one `cpu-small` job at a time, so that submissions pile up as pending
jobs, as on a busy cluster. For each step (a size of the job history) it:

* fills the history up to the step's size with finished jobs: through the API (20 clients
  submitting, then killing) for the part up to `--api-fill` jobs, through the repository
  (`JobRepository.insert_many`, straight into the database) beyond that; the output says which;
* submits `--submit` jobs (3,000: a 1,000-job burst lasts about a second here, and a
  collection or a scheduler pass more or less moved its rate by a fifth) running `true` from
  20 concurrent clients: submissions per second, p50/p99 latency;
* with those jobs pending: `GET /ping` latency (p50/p99/max, one every 10 ms for 3 s);
* `GET /jobs` of every job (JSON): the first listing (jobs the server has not read yet are
  decoded: cold) and the next one (warm); NDJSON time to first line and to the end;
* `GET /jobs?limit=10&reverse=1` (median of 5);
* a full listing's effect on others: the p99 and the slowest of `/ping`s sent every 10 ms
  during it;
* kills the pending jobs from 20 clients: kills per second, p99, max, answers of 5xx;
* the server's RSS.

Then prints each figure per step and its growth from the first step to the last. With
`--py-spy DIR` (py-spy on the PATH) it records the server during each step's submissions and
kills, one raw collapsed-stack file per backend, step and phase: where the growth goes. Not a test:
run it by hand,

    uv run python benchmarks/control_plane.py                        # 1k, 10k, 100k
    uv run python benchmarks/control_plane.py --steps 1000,10000 --backends sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

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
from neuro_platform.orchestrator.testing import build_base_image, remove_instance_containers
from neuro_platform.testing.server import DATABASE_FILE, PlatformServer, running_platform

MIB = 2**20
CLIENTS = 20
LOCAL_POSTGRES = "postgresql+asyncpg://neuro:neuro@127.0.0.1:5432/neuro"
PING_SECONDS = 3.0  # /ping under the backlog: over three passes at the default poll interval
BATCH = 2_000  # history rows per transaction when filling through the repository


@dataclass
class Figures:
    history: int = 0
    filled_by: str = ""
    submit_rate: float = 0.0
    submit_p50: float = 0.0
    submit_p99: float = 0.0
    submit_5xx: int = 0
    submit_cpu: float = 0.0
    ping_p50: float = 0.0
    ping_p99: float = 0.0
    ping_max: float = 0.0
    list_first: float = 0.0
    list_first_cpu: float = 0.0
    list_all: float = 0.0
    list_count: int = 0
    ndjson_first: float = 0.0
    ndjson_all: float = 0.0
    limit10: float = 0.0
    ping_during_list: float = 0.0
    ping_during_list_p99: float = 0.0
    kill_rate: float = 0.0
    kill_p99: float = 0.0
    kill_max: float = 0.0
    kill_5xx: int = 0
    kill_cpu: float = 0.0
    rss_mib: float = 0.0
    failures: list[str] = field(default_factory=list)


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


class Bench:
    def __init__(self, server: PlatformServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session
        self.jobs_url = str(server.api_url / "jobs")
        self.ping_url = str(server.api_url / "ping")

    async def submit(
        self, count: int, clients: int = CLIENTS
    ) -> tuple[list[str], list[float], int, float]:
        """Submits `count` jobs from `clients` clients: ids, latencies, 5xx answers, wall
        time."""
        body = {"image": "neuro-base/busybox:latest", "command": "true"}
        body["preset_name"] = "cpu-small"
        ids: list[str] = []
        latencies: list[float] = []
        errors = 0
        remaining = iter(range(count))

        async def client() -> None:
            nonlocal errors
            for _ in remaining:
                started = time.perf_counter()
                async with self.session.post(f"{self.jobs_url}?from_preset", json=body) as r:
                    answer = await r.json()
                latencies.append(time.perf_counter() - started)
                if r.status >= 500:
                    errors += 1
                elif r.status == 202:
                    ids.append(answer["id"])
                else:
                    raise RuntimeError(f"submission answered {r.status}: {answer}")

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return ids, latencies, errors, time.perf_counter() - started

    async def kill(self, ids: Sequence[str]) -> tuple[list[float], int, float]:
        latencies: list[float] = []
        errors = 0
        remaining = iter(ids)

        async def client() -> None:
            nonlocal errors
            for job_id in remaining:
                started = time.perf_counter()
                async with self.session.delete(f"{self.jobs_url}/{job_id}") as r:
                    await r.read()
                latencies.append(time.perf_counter() - started)
                if r.status >= 500:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        return latencies, errors, time.perf_counter() - started

    async def ping(self) -> float:
        started = time.perf_counter()
        async with self.session.get(self.ping_url) as r:
            await r.read()
        return time.perf_counter() - started

    async def list_all(self) -> int:
        async with self.session.get(self.jobs_url) as r:
            assert r.status == 200, r.status
            return len((await r.json())["jobs"])

    async def list_all_unread(self) -> None:
        """The whole listing, its body received and dropped: parsing 100k jobs of JSON here
        would block this event loop for seconds, and a /ping in flight meanwhile would count
        the client's pause as the server's (3.2-3.3 s at 100k jobs, 2026-12-07)."""
        async with self.session.get(self.jobs_url) as r:
            assert r.status == 200, r.status
            async for _chunk in r.content.iter_any():
                pass

    async def ndjson(self) -> tuple[float, float]:
        started = time.perf_counter()
        first = 0.0
        headers = {"Accept": "application/x-ndjson"}
        async with self.session.get(self.jobs_url, headers=headers) as r:
            async for _line in r.content:
                if not first:
                    first = time.perf_counter() - started
        return first, time.perf_counter() - started

    async def limit10(self) -> None:
        params = {"limit": "10", "reverse": "1"}
        async with self.session.get(self.jobs_url, params=params) as r:
            assert len((await r.json())["jobs"]) == 10

    async def pings(self, seconds: float) -> list[float]:
        """/ping latencies, one every 10 ms for `seconds` (several scheduler passes)."""
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            latencies.append(await self.ping())
            await asyncio.sleep(0.01)
        return latencies

    async def ping_during(self, call: Callable[[], Awaitable[object]]) -> list[float]:
        """/ping latencies, one every 10 ms, while `call` runs."""
        done = asyncio.Event()
        latencies: list[float] = []

        async def pinger() -> None:
            while not done.is_set():
                latencies.append(await self.ping())
                await asyncio.sleep(0.01)

        task = asyncio.create_task(pinger())
        await call()
        done.set()
        await task
        return latencies


def server_pid(server: PlatformServer) -> int | None:
    """The process listening on the server's port. (Its command line does not say: test
    servers are forked from a forkserver, `testing/forked.py`, and keep its command line.)"""
    port = f":{server.api_url.port:04X} "
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if port in f"{fields[1]} " and fields[3] == "0A":  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                for fd in (entry / "fd").iterdir():
                    if os.readlink(fd) in inodes:
                        return int(entry.name)
            except OSError:
                continue
    return None


def rss_mib(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int | None) -> float:
    """The process's CPU seconds so far (user and system): under other work on the same
    cores, steadier than the wall-clock time of what it did."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def history_job(owner: str, when: datetime) -> Job:
    spec = JobSpec(
        Container(image="neuro-base/busybox:latest", command="true", resources=SMALL),
        preset_name="cpu-small",
    )
    return Job(
        id=f"job-{uuid.uuid4()}",
        owner=owner,
        cluster_name="default",
        org_name=None,
        spec=spec,
        created_at=when,
        statuses=(
            StatusItem(JobStatus.PENDING, when, reason="Creating"),
            StatusItem(JobStatus.RUNNING, when + timedelta(seconds=1)),
            StatusItem(JobStatus.SUCCEEDED, when + timedelta(seconds=2), exit_code=0),
        ),
    )


SMALL = Resources(cpu=0.1, memory=64 * MIB)


async def fill_through_repository(database_url: str, count: int) -> None:
    engine = create_engine(database_url)
    try:
        repository = JobRepository(create_session_factory(engine))
        start = datetime.now(UTC) - timedelta(days=30)
        for first in range(0, count, BATCH):
            batch = [
                history_job("bench", start + timedelta(seconds=first + i))
                for i in range(min(BATCH, count - first))
            ]
            await repository.insert_many(batch)
    finally:
        await engine.dispose()


async def measure_step(
    bench: Bench,
    backend: str,
    database_url: str,
    target: int,
    history: int,
    args: argparse.Namespace,
) -> Figures:
    figures = Figures()
    missing = max(0, target - history)
    api_part = min(missing, max(0, args.api_fill - history))
    if api_part:
        ids, _, _, _ = await bench.submit(api_part)
        await bench.kill(ids)
    if missing - api_part:
        await fill_through_repository(database_url, missing - api_part)
    by_repository = missing - api_part
    parts = [f"{api_part} through the API"] if api_part else []
    parts += [f"{by_repository} through the repository"] if by_repository else []
    figures.filled_by = " + ".join(parts) or "nothing"

    pid = server_pid(bench.server)
    # The server's CPU per 1,000 requests: what the rate would be with a core to itself, and
    # a figure the other work on the machine moves less than a rate.
    spy = Path(args.py_spy) if args.py_spy else None
    recorder = start_py_spy(spy / f"{backend}-{target}-submit.txt", pid) if spy else None
    cpu_before = cpu_s(pid)
    ids, latencies, figures.submit_5xx, wall = await bench.submit(args.submit)
    if recorder is not None:
        stop_py_spy(recorder)
    figures.submit_cpu = (cpu_s(pid) - cpu_before) * 1000 / max(1, len(latencies))
    figures.submit_rate = len(latencies) / wall
    figures.submit_p50 = quantile(latencies, 0.5)
    figures.submit_p99 = quantile(latencies, 0.99)

    pings = await bench.pings(PING_SECONDS)
    figures.ping_p50, figures.ping_p99 = quantile(pings, 0.5), quantile(pings, 0.99)
    figures.ping_max = max(pings)

    cpu_before = cpu_s(pid)
    started = time.perf_counter()
    # The first listing decodes every job the server has not read yet (cold), the next one
    # finds them in memory (warm).
    figures.list_count = await bench.list_all()
    figures.list_first = time.perf_counter() - started
    figures.list_first_cpu = cpu_s(pid) - cpu_before
    figures.list_all = await timed(bench.list_all)
    figures.ndjson_first, figures.ndjson_all = await bench.ndjson()
    figures.limit10 = statistics.median([await timed(bench.limit10) for _ in range(5)])
    during = await bench.ping_during(bench.list_all_unread)
    figures.ping_during_list, figures.ping_during_list_p99 = max(during), quantile(during, 0.99)

    recorder = start_py_spy(spy / f"{backend}-{target}-kill.txt", pid) if spy else None
    cpu_before = cpu_s(pid)
    latencies, figures.kill_5xx, wall = await bench.kill(ids)
    if recorder is not None:
        stop_py_spy(recorder)
    figures.kill_cpu = (cpu_s(pid) - cpu_before) * 1000 / max(1, len(latencies))
    figures.kill_rate = len(latencies) / wall
    figures.kill_p99 = quantile(latencies, 0.99)
    figures.kill_max = max(latencies)
    figures.rss_mib = rss_mib(server_pid(bench.server))
    figures.history = figures.list_count
    return figures


def start_py_spy(output: Path, pid: int | None, threads: bool = False) -> subprocess.Popen[bytes]:
    executable = shutil.which("py-spy")
    if executable is None or pid is None:
        raise SystemExit("--py-spy needs py-spy on the PATH and the server's pid")
    command = [executable, "record", "-p", str(pid), "-f", "raw", "-o", str(output), "-r", "200"]
    if threads:
        command.append("--threads")
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # attached before the first measured request
    return recorder


def stop_py_spy(recorder: subprocess.Popen[bytes]) -> None:
    recorder.send_signal(2)  # SIGINT: py-spy writes its file and exits
    recorder.wait(30)


ROWS: tuple[tuple[str, str, str], ...] = (
    ("history (jobs listed)", "history", "{:.0f}"),
    ("POST /jobs per s", "submit_rate", "{:.0f}"),
    ("POST /jobs p50 ms", "submit_p50", "ms"),
    ("POST /jobs p99 ms", "submit_p99", "ms"),
    ("POST /jobs 5xx", "submit_5xx", "{:.0f}"),
    ("POST /jobs server CPU s per 1,000", "submit_cpu", "{:.2f}"),
    ("GET /ping p50 ms (backlog)", "ping_p50", "ms"),
    ("GET /ping p99 ms (backlog)", "ping_p99", "ms"),
    ("GET /ping max ms (backlog)", "ping_max", "ms"),
    ("GET /jobs all, first (cold), s", "list_first", "{:.3f}"),
    ("GET /jobs all, first (cold), server CPU s", "list_first_cpu", "{:.2f}"),
    ("GET /jobs all, s", "list_all", "{:.3f}"),
    ("NDJSON first line ms", "ndjson_first", "ms"),
    ("NDJSON all, s", "ndjson_all", "{:.3f}"),
    ("limit=10&reverse=1 ms", "limit10", "ms"),
    ("/ping p99 during a listing ms", "ping_during_list_p99", "ms"),
    ("/ping max during a listing ms", "ping_during_list", "ms"),
    ("DELETE per s", "kill_rate", "{:.0f}"),
    ("DELETE p99 ms", "kill_p99", "ms"),
    ("DELETE max ms", "kill_max", "ms"),
    ("DELETE 5xx", "kill_5xx", "{:.0f}"),
    ("DELETE server CPU s per 1,000", "kill_cpu", "{:.2f}"),
    ("server RSS MiB", "rss_mib", "{:.0f}"),
)


def print_table(backend: str, steps: Sequence[int], results: Sequence[Figures]) -> None:
    print(f"\n{backend}: {CLIENTS} clients, jobs `true` on cpu-small, one job runs at a time")
    for step, figures in zip(steps, results, strict=True):
        print(f"  history of step {step:,} filled by: {figures.filled_by}")
    print()
    width = max(len(name) for name, _, _ in ROWS)
    header = "".join(f"{f'{step:,}':>12}" for step in steps)
    print(f"{'step':<{width}}{header}{'growth':>10}")
    for name, key, form in ROWS:
        values = [getattr(f, key) for f in results]
        cells = [f"{value * 1000:.1f}" if form == "ms" else form.format(value) for value in values]
        growth = ""
        if isinstance(values[0], float | int) and values[0] and len(values) > 1:
            growth = f"{values[-1] / values[0]:.2f}x"
        print(f"{name:<{width}}{''.join(f'{c:>12}' for c in cells)}{growth:>10}")


@contextmanager
def postgres_database() -> Iterator[str]:
    server_url = make_url(os.environ.get("NEURO_TEST_POSTGRES_URL", LOCAL_POSTGRES))
    name = f"neuro_bench_{uuid.uuid4().hex[:12]}"

    async def execute(statement: str) -> None:
        admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await admin.dispose()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(execute(f'DROP DATABASE "{name}" WITH (FORCE)'))


def one_job_config(instance: str) -> dict[str, Any]:
    """A server whose node has room for one `cpu-small` job at a time: the others wait, as
    on a busy cluster."""
    return {
        "jobs": {"orchestrator_instance": instance},
        "node": {"cpu": 0.1, "memory": 64 * MIB, "gpu": 0},
        "clusters": [
            {"name": "default", "presets": [{"name": "cpu-small", "cpu": 0.1, "memory": 64 * MIB}]}
        ],
    }


def run_backend(backend: str, steps: Sequence[int], args: argparse.Namespace) -> None:
    instance = f"bench-{uuid.uuid4().hex[:8]}"
    config = one_job_config(instance)
    with (
        tempfile.TemporaryDirectory(prefix="control-plane-bench-") as directory,
        postgres_database() if backend == "postgres" else _sqlite(Path(directory)) as database_url,
    ):
        try:
            with running_platform(
                Path(directory),
                config=config,
                database_url=database_url if backend == "postgres" else None,
                users={"bench": "bench-password"},
            ) as server:
                results = asyncio.run(_run_steps(server, backend, database_url, steps, args))
        finally:
            remove_instance_containers(instance)
    print_table(backend, steps, results)


@contextmanager
def _sqlite(directory: Path) -> Iterator[str]:
    yield f"sqlite+aiosqlite:///{directory / 'platform-data' / DATABASE_FILE}"


async def _run_steps(
    server: PlatformServer,
    backend: str,
    database_url: str,
    steps: Sequence[int],
    args: argparse.Namespace,
) -> list[Figures]:
    headers = {"Authorization": f"Bearer {server.issue_token('bench')}"}
    connector = aiohttp.TCPConnector(limit=CLIENTS + 5)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(
        headers=headers, connector=connector, timeout=timeout
    ) as session:
        bench = Bench(server, session)
        results: list[Figures] = []
        history = 0
        for step in steps:
            started = time.perf_counter()
            figures = await measure_step(bench, backend, database_url, step, history, args)
            history = figures.history
            results.append(figures)
            print(f"  step {step:,} done in {time.perf_counter() - started:.0f} s", flush=True)
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="1000,10000,100000", help="history sizes")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite, postgres")
    parser.add_argument("--submit", type=int, default=3000, help="jobs submitted per step")
    parser.add_argument(
        "--api-fill", type=int, default=1000, help="history up to this size goes through the API"
    )
    parser.add_argument(
        "--py-spy", help="a folder: record the server's submissions and kills, a file per step"
    )
    args = parser.parse_args()
    if args.py_spy:
        Path(args.py_spy).mkdir(parents=True, exist_ok=True)
    steps = [int(s) for s in args.steps.split(",")]
    build_base_image("busybox")
    for backend in args.backends.split(","):
        run_backend(backend, steps, args)


if __name__ == "__main__":
    main()
