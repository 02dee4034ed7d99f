"""Submission ceiling (issue #20): `POST /jobs` against our server, and the same client against
a bare aiohttp server, in one run.

The bare server's POST handler only reads the JSON body and answers with the bytes our server
answered to the same body (the same status and size): what is left of the rate there is HTTP
and the client alone, on the same cores. For each backend (SQLite, then PostgreSQL: a fresh
database, as `control_plane.py` makes) it submits `--warm-up` jobs, then `--submit` jobs
from 20 concurrent clients (`control_plane.Bench.submit`, the same body), and prints:

* submissions per second, and that rate over the bare server's;
* CPU seconds per 1,000 submissions of the server process, of this process (the client), and
  of the PostgreSQL backends serving the benchmark's database: unlike the rate, steady
  under other work on the same cores.

With `--processes N` (PostgreSQL only) it runs N `serve` processes on the one database and
data dir, as docs/scale-out.md describes, and the clients are spread over them evenly, as a
load balancer would spread connections; the server CPU is that of all N.

With `--jobs-quota N` every user has a jobs quota of N (make it larger than all the jobs
submitted): each group of submissions then counts its users' unfinished jobs in the
transaction that records it (docs/admin.md, "Quotas").

With `--py-spy DIR` (py-spy on the PATH, e.g. `uv tool run py-spy`'s), it records the server
during the measured submissions, one collapsed-stack file per backend, every thread
(`--threads`), for `flamegraph.pl` or a quick `sort | head`. Not a test: run it by hand,

    uv run python benchmarks/submit_ceiling.py --submit 2000
    uv run python benchmarks/submit_ceiling.py --backends postgres --py-spy /tmp/spy
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from control_plane import (
    CLIENTS,
    Bench,
    cpu_s,
    one_job_config,
    postgres_database,
    quantile,
    server_pid,
    start_py_spy,
    stop_py_spy,
)

from neuro_platform.orchestrator.testing import build_base_image, remove_instance_containers
from neuro_platform.testing.server import PlatformServer, _free_port, running_platform, serving


@dataclass
class Run:
    name: str
    rate: float
    p50: float
    p99: float
    server_cpu: float  # per 1,000 submissions
    client_cpu: float
    postgres_cpu: float | None


class UrlBench(Bench):
    """`Bench` of any server's `POST /jobs` URL (the bare server is no `PlatformServer`)."""

    def __init__(self, jobs_url: str, session: aiohttp.ClientSession) -> None:
        self.session, self.jobs_url = session, jobs_url


def postgres_cpu_s(database: str | None) -> float:
    """CPU seconds so far of the PostgreSQL backends connected to `database` (their process
    titles name it): the database server's share of the work, without other databases'."""
    if database is None:
        return 0.0
    needle = f" {database} ".encode()
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes():
                    total += cpu_s(int(entry.name))
            except OSError:
                continue
    return total


def own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


async def measure(
    name: str,
    urls: list[str],
    token: str | None,
    pids: list[int | None],
    database: str | None,
    args: argparse.Namespace,
    spy: Path | None = None,
) -> tuple[Run, bytes]:
    """Submissions to `urls` (the same server's processes), CLIENTS clients spread over them."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connector = aiohttp.TCPConnector(limit=CLIENTS + 5)

    def servers_cpu_s() -> float:
        return sum(cpu_s(pid) for pid in pids)

    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        benches = [UrlBench(url, session) for url in urls]
        clients = CLIENTS // len(urls)

        async def submit(count: int) -> tuple[list[float], int, float]:
            runs = await asyncio.gather(
                *(bench.submit(count // len(urls), clients) for bench in benches)
            )
            return (
                [latency for run in runs for latency in run[1]],
                sum(run[2] for run in runs),
                max(run[3] for run in runs),
            )

        body = {"image": "neuro-base/busybox:latest", "command": "true", "preset_name": "cpu-small"}
        async with session.post(f"{urls[0]}?from_preset", json=body) as r:
            answer = await r.read()
        await submit(args.warm_up)
        recorder = start_py_spy(spy, pids[0], args.threads) if spy is not None else None
        before = (servers_cpu_s(), own_cpu_s(), postgres_cpu_s(database))
        latencies, errors, wall = await submit(args.submit)
        after = (servers_cpu_s(), own_cpu_s(), postgres_cpu_s(database))
        if recorder is not None:
            stop_py_spy(recorder)
    per_1000 = 1000 / len(latencies)
    run = Run(
        name,
        rate=len(latencies) / wall,
        p50=quantile(latencies, 0.5),
        p99=quantile(latencies, 0.99),
        server_cpu=(after[0] - before[0]) * per_1000,
        client_cpu=(after[1] - before[1]) * per_1000,
        postgres_cpu=(after[2] - before[2]) * per_1000 if database else None,
    )
    if errors:
        print(f"  {name}: {errors} answers of 5xx")
    return run, answer


def bare_server(port: int, answer: bytes, status: int) -> None:
    """The POST handler reads the JSON body and answers `answer`: HTTP and nothing else."""

    async def create(request: web.Request) -> web.Response:
        await request.json()
        return web.Response(body=answer, status=status, content_type="application/json")

    app = web.Application()
    app.router.add_post("/api/v1/jobs", create)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


@contextmanager
def running_bare_server(answer: bytes, status: int) -> Iterator[tuple[str, int]]:
    port = _free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=bare_server, args=(port, answer, status), daemon=True
    )
    process.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        assert process.pid is not None
        yield f"http://127.0.0.1:{port}/api/v1/jobs", process.pid
    finally:
        process.terminate()
        process.join(10)


def run_backend(backend: str, args: argparse.Namespace) -> tuple[Run, bytes]:
    instance = f"bench-{uuid.uuid4().hex[:8]}"
    config = one_job_config(instance)
    if args.jobs_quota is not None:
        config["jobs"]["max_running_jobs_per_user"] = args.jobs_quota
    spy = Path(args.py_spy) / f"{backend}.txt" if args.py_spy else None
    with (
        tempfile.TemporaryDirectory(prefix="submit-ceiling-") as directory,
        postgres_database() if backend == "postgres" else _no_database() as database_url,
    ):
        try:
            with (
                running_platform(
                    Path(directory),
                    config=config,
                    database_url=database_url,
                    users={"bench": "bench-password"},
                ) as server,
                ExitStack() as more,
            ):
                # More processes of the one server: its data dir and configuration.
                extra = [
                    more.enter_context(
                        serving(
                            Path(directory), f"process-{n}", server.data_dir, server.config_file
                        )
                    ).server
                    for n in range(2, args.processes + 1 if backend == "postgres" else 2)
                ]
                return asyncio.run(
                    _measure_server(backend, [server, *extra], database_url, args, spy)
                )
        finally:
            remove_instance_containers(instance)


async def _measure_server(
    backend: str,
    processes: list[PlatformServer],
    database_url: str | None,
    args: argparse.Namespace,
    spy: Path | None,
) -> tuple[Run, bytes]:
    database = database_url.rpartition("/")[2] if database_url else None
    name = backend if len(processes) == 1 else f"{backend} x{len(processes)}"
    return await measure(
        name,
        [str(process.api_url / "jobs") for process in processes],
        processes[0].issue_token("bench"),
        [server_pid(process) for process in processes],
        database,
        args,
        spy,
    )


@contextmanager
def _no_database() -> Iterator[None]:
    yield None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite, postgres")
    parser.add_argument("--submit", type=int, default=2000, help="jobs submitted, measured")
    parser.add_argument("--warm-up", type=int, default=200, help="jobs submitted before")
    parser.add_argument(
        "--processes", type=int, default=1, help="serve processes (PostgreSQL only)"
    )
    parser.add_argument(
        "--jobs-quota",
        type=int,
        help="every user's jobs quota: submissions are counted where they are recorded",
    )
    parser.add_argument("--py-spy", help="a folder: record the server with py-spy during it")
    parser.add_argument("--threads", action="store_true", help="py-spy: one stack per thread")
    args = parser.parse_args()
    if args.py_spy:
        Path(args.py_spy).mkdir(parents=True, exist_ok=True)
    build_base_image("busybox")
    runs: list[Run] = []
    answer, status = b"", 202
    for backend in args.backends.split(","):
        run, answer = run_backend(backend, args)
        runs.append(run)
        print(f"  {backend} done", flush=True)
    with running_bare_server(answer, status) as (url, pid):
        bare, _ = asyncio.run(measure("bare aiohttp", [url], None, [pid], None, args))
    print(f"\n{args.submit} submissions from {CLIENTS} clients; load average {os.getloadavg()}")
    print(f"bare server's answer: {len(answer)} bytes, status {status}\n")
    header = f"{'':<14}{'per s':>8}{'of bare':>9}{'p50 ms':>8}{'p99 ms':>8}"
    print(f"{header}{'CPU s per 1,000: server':>25}{'client':>8}{'postgres':>10}")
    for run in [*runs, bare]:
        postgres = "" if run.postgres_cpu is None else f"{run.postgres_cpu:.2f}"
        print(
            f"{run.name:<14}{run.rate:>8.0f}{run.rate / bare.rate:>9.2f}"
            f"{run.p50 * 1000:>8.1f}{run.p99 * 1000:>8.1f}"
            f"{run.server_cpu:>25.2f}{run.client_cpu:>8.2f}{postgres:>10}"
        )


if __name__ == "__main__":
    main()
