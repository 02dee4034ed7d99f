"""Long listings in the CLI (issue #20): `neuro ps -a`, `neuro ls` and `neuro ls -l` against
the raw HTTP call and the SDK alone.

Starts our server on a loopback port (SQLite), then for each size:
- jobs: one job submitted through the CLI and killed, and copies of its database row
  (written into the server's SQLite file directly: submitting 10k jobs through the API is
  what benchmarks/control_plane.py measures, not this one);
- files: empty files created directly on disk in one storage folder.
Times, best of `--repeat` runs each: the raw NDJSON HTTP call read to its end, the SDK's
listing iterated in this process, the CLI command end to end (a process writing into a pipe,
COLUMNS=160), and the CLI's rendering alone in this process (rows already fetched, printed
into a string): per row, that is what the table costs on top of the SDK. Not a test: run it
by hand,

    uv run python benchmarks/cli_listing.py                       # 1k/10k jobs, 10k/100k files
    uv run python benchmarks/cli_listing.py --jobs 1000 --files 1000 --repeat 1   # quick

One run here (2026-12-06, the shared 2-core VM under other work, `--jobs 1000 10000 --files
10000 100000 --repeat 1`; `neuro --version` alone 0.45 s):

    case     rows  raw HTTP s  SDK s  CLI s  CLI/raw  render µs/row
    ps -a    1000       0.199  0.345  2.056   10.35x           90.4
    ps -a   10000       2.630  2.899  4.962    1.89x           67.2
    ls      10000       0.230  0.275  2.144    9.31x            7.8
    ls -l   10000       0.230  0.275  2.229    9.68x           19.4
    ls     100000       2.188  2.460  5.883    2.69x            9.2
    ls -l  100000       2.188  2.460  6.538    2.99x           21.4

Before the streamed tables the rendering alone took 33 s for 10k jobs and 16 s for 10k
`ls -l` rows (rich laying out every cell), 6.1 s for 100k `ls` names. What is left above
the SDK is mostly a fixed cost per command (~1.2 s here: importing aiohttp and rich, the
config), not per row; the server's own time (raw HTTP) is the control plane's.

The storage rows after the sixth round (2026-12-07 03:05 UTC, load average 6.0–6.3, `--jobs
--files 10000 100000 --repeat 2`; docs/performance.md, "Storage listings in the CLI", has
runs of the code before and after alternated):

    case     rows  raw HTTP s  SDK s  CLI s  CLI/raw  CLI/SDK  render µs/row
    ls      10000       0.115  0.184  0.511    4.44x    2.77x            0.6
    ls -l   10000       0.115  0.184  0.532    4.63x    2.89x            4.2
    ls     100000       1.666  2.637  2.740    1.65x    1.04x            0.8
    ls -l  100000       1.666  2.637  2.355    1.41x    0.89x            3.5

CPU seconds: SDK 0.060 (10k) and 0.791 (100k); CLI 0.332 / 0.369 (10k `ls` / `ls -l`) and
1.023 / 1.266 (100k). The SDK's column runs in this process with the garbage collector's
default thresholds, which the CLI raises (neuro_cli/process_gc.py): at 100k the CLI can finish
before the SDK alone does. At 10k what is left is the command's fixed cost (~0.3 s).

After the eighth round (2026-12-07 08:40–08:42 UTC, load average 2.1–2.9, `--jobs 1000
--files 10000 --repeat 3`, three runs alternated with the code before it; docs/performance.md,
"CLI start-up"): `ls` 10k 2.37–3.76x LISTSTATUS, `ls -l` 2.35–3.86x, the CLI's CPU 0.27–0.29 s
(`ls`) against 0.30–0.32 s before. The fixed cost is now ~0.21 s of CPU (`ls` of an empty
folder), nearly all of it the interpreter and imports: aiohttp alone ~0.10 s.
"""

import argparse
import asyncio
import contextlib
import io
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import aiohttp
from rich.console import Console

import neuro_sdk
from neuro_cli.formatters.jobs import print_jobs
from neuro_cli.formatters.storage import long_row_maker, print_long_rows, print_short_listing
from neuro_platform.testing.server import DATABASE_FILE, PlatformServer, running_platform

OUR_NEURO = Path(sys.executable).with_name("neuro")
BUSYBOX = "neuro-base/busybox:latest"
WIDTH = 160


@dataclass(frozen=True)
class Row:
    case: str
    size: int
    raw_s: float
    sdk_s: float
    cli_s: float
    render_s: float
    # CPU seconds (best of the runs) of the SDK's listing in this process and of the CLI's
    # process: on a machine shared with other work, steadier than the wall-clock times.
    sdk_cpu_s: float | None = None
    cli_cpu_s: float | None = None


def best(repeat: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(repeat))


def cli_env(config_dir: Path, bytecode_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEURO")}
    env |= {"NEUROMATION_CONFIG": str(config_dir), "COLUMNS": str(WIDTH)}
    env["PYTHONPYCACHEPREFIX"] = str(bytecode_dir)  # compiled once, as installed packages
    # ... which this variable (set on the development machines) would defeat: every command
    # compiled every module it imports again, most of the CLI's "start-up" measured here.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_cli(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([str(OUR_NEURO), *args], env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"neuro {' '.join(args)} failed: {result.stderr.decode()}")
    return elapsed


def timed_async(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    asyncio.run(action())  # type: ignore[arg-type]
    return time.perf_counter() - started


def cpu_of_async(action: Callable[[], Awaitable[object]]) -> float:
    started = time.process_time()
    asyncio.run(action())  # type: ignore[arg-type]
    return time.process_time() - started


def cpu_of_cli(env: dict[str, str], *args: str) -> float:
    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    started = children()
    run_cli(env, *args)
    return children() - started


async def raw_get(url: str, token: str, params: Sequence[tuple[str, str]]) -> int:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/x-ndjson"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, params=params, headers=headers) as response,
    ):
        response.raise_for_status()
        return len(await response.read())


def add_jobs(server: PlatformServer, env: dict[str, str], total: int) -> None:
    """Brings the server's job count to `total`: copies of one submitted, killed job."""
    database = server.data_dir / DATABASE_FILE
    with contextlib.closing(sqlite3.connect(database)) as db:
        (count,) = db.execute("SELECT count(*) FROM jobs").fetchone()
    if count == 0:
        output = subprocess.run(
            [str(OUR_NEURO), "run", "--detach", BUSYBOX, "true"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        job_id = next(word for word in output.split() if word.startswith("job-"))
        subprocess.run([str(OUR_NEURO), "kill", job_id], env=env, check=True, capture_output=True)
        count = 1
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        (template,) = db.execute("SELECT id FROM jobs LIMIT 1").fetchone()
        columns = [row[1] for row in db.execute("PRAGMA table_info(jobs)")]
        select = ", ".join(
            "?" if name == "id" else "0" if name == "materialized" else name for name in columns
        )
        db.executemany(
            f"INSERT INTO jobs ({', '.join(columns)}) SELECT {select} FROM jobs WHERE id = ?",
            [(f"job-{uuid.uuid4()}", template) for _ in range(total - count)],
        )


def measure_jobs(
    server: PlatformServer, token: str, env: dict[str, str], size: int, repeat: int
) -> Row:
    add_jobs(server, env, size)
    config = Path(env["NEUROMATION_CONFIG"])
    params = [("cluster_name", "default")]

    async def sdk() -> list[neuro_sdk.JobDescription]:
        async with await neuro_sdk.get(path=config) as client, client.jobs.list() as jobs:
            return [job async for job in jobs]

    raw_s = best(
        repeat, lambda: timed_async(lambda: raw_get(str(server.api_url / "jobs"), token, params))
    )
    sdk_s = best(repeat, lambda: timed_async(sdk))
    cli_s = best(repeat, lambda: run_cli(env, "ps", "-a"))
    jobs = asyncio.run(sdk())
    assert len(jobs) == size, (len(jobs), size)

    def render() -> float:
        async def rows():  # type: ignore[no-untyped-def]
            for job in jobs:
                yield job

        console = Console(file=io.StringIO(), width=WIDTH, color_system=None)
        started = time.perf_counter()
        asyncio.run(print_jobs(console, rows(), tz=UTC))
        return time.perf_counter() - started

    sdk_cpu_s = best(repeat, lambda: cpu_of_async(sdk))
    cli_cpu_s = best(repeat, lambda: cpu_of_cli(env, "ps", "-a"))
    return Row("ps -a", size, raw_s, sdk_s, cli_s, best(repeat, render), sdk_cpu_s, cli_cpu_s)


def measure_files(
    server: PlatformServer, token: str, env: dict[str, str], size: int, repeat: int
) -> list[Row]:
    folder = f"bench-{size}"
    path = server.data_dir / "storage" / "default" / "alice" / folder
    path.mkdir(parents=True)
    for index in range(size):
        (path / f"file-{index:07d}.txt").touch()
    config = Path(env["NEUROMATION_CONFIG"])
    uri = f"storage:{folder}"

    async def sdk() -> list[neuro_sdk.FileStatus]:
        async with (
            await neuro_sdk.get(path=config) as client,
            client.storage.list(client.parse.str_to_uri(uri)) as listed,
        ):
            return [status async for status in listed]

    url = str(server.api_url / "storage" / "alice" / folder)
    raw_s = best(repeat, lambda: timed_async(lambda: raw_get(url, token, [("op", "LISTSTATUS")])))
    sdk_s = best(repeat, lambda: timed_async(sdk))
    statuses = asyncio.run(sdk())
    assert len(statuses) == size

    def render(long: bool) -> float:
        # What `neuro ls` does with the entries: a row each (made as they arrive), sorted by
        # name, printed.
        console = Console(file=io.StringIO(), width=WIDTH, color_system=None)
        started = time.perf_counter()
        if long:
            row = long_row_maker(human_readable=False)
            rows = sorted(((s.name, row(s)) for s in statuses), key=lambda entry: entry[0])
            print_long_rows(console, [entry for _, entry in rows])
        else:
            print_short_listing(console, sorted(s.name for s in statuses))
        return time.perf_counter() - started

    sdk_cpu_s = best(repeat, lambda: cpu_of_async(sdk))
    return [
        Row(
            "ls",
            size,
            raw_s,
            sdk_s,
            best(repeat, lambda: run_cli(env, "ls", uri)),
            best(repeat, lambda: render(False)),
            sdk_cpu_s,
            best(repeat, lambda: cpu_of_cli(env, "ls", uri)),
        ),
        Row(
            "ls -l",
            size,
            raw_s,
            sdk_s,
            best(repeat, lambda: run_cli(env, "ls", "-l", uri)),
            best(repeat, lambda: render(True)),
            sdk_cpu_s,
            best(repeat, lambda: cpu_of_cli(env, "ls", "-l", uri)),
        ),
    ]


def print_table(rows: Sequence[Row], start_s: float) -> None:
    print(f"\nCLI start alone (neuro --version): {start_s:.3f} s")
    header = ("case", "rows", "raw HTTP s", "SDK s", "CLI s", "CLI/raw", "CLI/SDK", "render µs/row")
    print("  ".join(f"{h:>13}" for h in header))
    for row in rows:
        cells = (
            row.case,
            str(row.size),
            f"{row.raw_s:.3f}",
            f"{row.sdk_s:.3f}",
            f"{row.cli_s:.3f}",
            f"{row.cli_s / row.raw_s:.2f}x",
            f"{row.cli_s / row.sdk_s:.2f}x",
            f"{row.render_s / row.size * 1e6:.1f}" if row.size else "-",  # an empty folder
        )
        print("  ".join(f"{cell:>13}" for cell in cells))
    for row in rows:
        if row.sdk_cpu_s is not None and row.cli_cpu_s is not None:
            print(f"{row.case} {row.size}: CPU s, SDK {row.sdk_cpu_s:.3f}, CLI {row.cli_cpu_s:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--files", type=int, nargs="*", default=[10000, 100000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="cli-listing-bench-") as temp:
        work = Path(temp)
        with running_platform(work / "server", users={"alice": "alice-password"}) as server:
            token = server.issue_token("alice")
            env = cli_env(work / "config", work / "bytecode")
            run_cli(env, "config", "login-with-token", token, str(server.api_url))
            start_s = best(args.repeat, lambda: run_cli(env, "--version"))
            for size in sorted(args.jobs):
                rows.append(measure_jobs(server, token, env, size, args.repeat))
                print(rows[-1], flush=True)
            for size in args.files:
                rows.extend(measure_files(server, token, env, size, args.repeat))
                print(rows[-1], flush=True)
    print_table(rows, start_s)


if __name__ == "__main__":
    main()
