"""Job start benchmark: our platform against raw `docker run` of the same image, same run.

Starts our server on a loopback port (a temporary directory, a node large enough for every
job at once, the scheduler's poll interval as configured) and measures, for jobs that print a
line and then sleep:

* submit → RUNNING: ours is `POST /jobs` until `GET /jobs/{id}` says running; raw Docker's is
  `docker run -d` until the engine's `GET /containers/{name}/json` says running. Both sides
  are polled the same way (HTTP, every POLL_S), so neither gains from a finer granularity nor
  loses more CPU to its polling: measured on `docker run -d` returning instead, Docker's side
  had an event where ours had a poll (up to POLL_S late, plus the poll requests' CPU on a
  2-core machine);
* submit → first log line: ours is `POST /jobs` and `log_ws` opened at once (as `neuro run`
  does) until its first frame; raw Docker's is an attached `docker run` until its first stdout
  line. Each is a job of its own started after the RUNNING one, on both sides alike: measuring
  ours on the job already polled to RUNNING while Docker's started a fresh container gave the
  two sides different loads in the concurrent case;

once one job after another (sequential) and once all at once (concurrent). Every container of
a case runs until the case ends; only then are they removed, on both sides alike, and the next
case starts once the engine has none of them left: no start competes with a teardown. Each
case runs in rounds that take turns between the sides, and the medians are over all rounds.

Raw Docker is measured twice: plain `docker run` (the issue's baseline), and `docker run` with
the options the platform gives a job's container (its owner's hosts file mounted at
/etc/hosts, which internal hostnames need, its owner's network, a host name, an init process,
no-new-privileges, CPU, memory and pids limits, the `local` log driver). The second isolates
what the platform itself adds; the gap between the two is the engine's price for those
options. Prints medians, the concurrent batch's wall time and both ratios (target: at most
1.30).

Then the same through the API of a platform whose jobs run on the Slurm test cluster
(`scripts/slurm-cluster.sh up`; skipped, saying why, when it is not up), against a plain
`sbatch` of the same `podman run` (benchmarks/slurm_job_start.py's `plain`: RUNNING is when
its batch script has started podman, the first line when it is in the container's log). As
on Docker, each side's first line is a job of its own, submitted while its RUNNING one runs:
Slurm defers a batch job submitted within `batch_sched_delay` (3 s by default) of its last
scheduling pass, which a first line taken on plain's RUNNING job would spare it alone. One
job after another only: the test cluster has 4 CPUs and Slurm gives each job a whole one.
After every sample both sides wait until their Slurm jobs have left the queue, so no start
competes with a teardown. Not a test: run it by hand,

    uv run python benchmarks/job_start.py                 # 5 rounds of 10 jobs per case
    uv run python benchmarks/job_start.py --jobs 5 --rounds 1
    uv run python benchmarks/job_start.py --engine slurm  # only the Slurm case
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from slurm_job_start import PLAIN_JOB_NAME, ensure_image, plain

from neuro_platform.orchestrator.naming import LABEL_INSTANCE
from neuro_platform.orchestrator.testing import build_base_image, remove_instance_containers
from neuro_platform.testing import slurm
from neuro_platform.testing.server import PlatformServer, running_platform

MIB = 2**20
POLL_S = 0.01  # how often our client asks for the status: well under the figures measured
JOB_SCRIPT = "echo ready; sleep 120"


@dataclass(frozen=True)
class Sample:
    running: float  # seconds from submission
    first_line: float


@dataclass(frozen=True)
class Row:
    case: str
    ours: float
    docker: float  # plain `docker run`
    docker_same: float  # `docker run` with the options of a job's container


# -- raw Docker -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobLike:
    """What a job's container gets beyond a plain `docker run`: a hosts file and a network."""

    hosts_file: Path
    network: str


def same_options(job_like: JobLike) -> list[str]:
    """`docker run` options for what the platform's job container has (see docker_config)."""
    return [
        *("--mount", f"type=bind,source={job_like.hosts_file},target=/etc/hosts,readonly"),
        # Each owner's jobs run on a user-defined bridge of their own (isolation between
        # users); the engine sets up its embedded DNS in every container on such a network.
        *("--network", job_like.network),
        *("--security-opt", "no-new-privileges:true", "--pids-limit", "4096"),
        *("--hostname", f"bench-{uuid.uuid4().hex[:12]}"),
        *("--init", "--log-driver", "local"),
        *("--cpus", "0.1", "--memory", "64m", "--memory-swap", "64m"),
    ]


async def docker_sample(
    engine: aiohttp.ClientSession, image: str, label: str, job_like: JobLike | None
) -> Sample:
    name = f"bench-{uuid.uuid4().hex[:12]}"
    options = same_options(job_like) if job_like else []
    started = time.perf_counter()
    detached = await asyncio.create_subprocess_exec(
        *("docker", "run", "-d", "--label", label, "--name", name, *options, image),
        *("sh", "-c", JOB_SCRIPT),
        stdout=asyncio.subprocess.DEVNULL,
    )
    while True:
        async with engine.get(f"http://docker/containers/{name}/json") as response:
            running = response.status == 200 and (await response.json())["State"]["Running"]
        if running:
            break
        assert detached.returncode in (None, 0), detached.returncode
        await asyncio.sleep(POLL_S)
    running_s = time.perf_counter() - started
    await detached.wait()

    started = time.perf_counter()
    attached = await asyncio.create_subprocess_exec(
        *("docker", "run", "--rm", "--label", label, "--name", f"{name}-a", *options, image),
        *("sh", "-c", JOB_SCRIPT),
        stdout=asyncio.subprocess.PIPE,
    )
    assert attached.stdout is not None
    line = await attached.stdout.readline()
    first_line = time.perf_counter() - started
    assert line == b"ready\n", line
    attached.kill()
    await attached.wait()
    return Sample(running_s, first_line)


async def run_docker(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "docker", *args, stdout=asyncio.subprocess.DEVNULL
    )
    assert await process.wait() == 0, args


async def remove_docker_containers(label: str) -> None:
    listing = await asyncio.create_subprocess_exec(
        "docker", "ps", "-aq", "--filter", f"label={label}", stdout=asyncio.subprocess.PIPE
    )
    ids = (await listing.communicate())[0].split()
    if ids:
        removal = await asyncio.create_subprocess_exec(
            "docker", "rm", "-f", *ids, stdout=asyncio.subprocess.DEVNULL
        )
        await removal.wait()


# -- our platform ---------------------------------------------------------------------------


async def platform_sample(
    session: aiohttp.ClientSession, jobs_url: str, created: list[str]
) -> Sample:
    body = {"image": "neuro-base/busybox:latest", "command": f"sh -c '{JOB_SCRIPT}'"}
    body["preset_name"] = "bench"
    started = time.perf_counter()
    async with session.post(f"{jobs_url}?from_preset", json=body) as response:
        assert response.status == 202, await response.text()
        job_id = (await response.json())["id"]
    created.append(job_id)
    while True:
        async with session.get(f"{jobs_url}/{job_id}") as response:
            status = (await response.json())["status"]
        if status == "running":
            break
        assert status == "pending", status
        await asyncio.sleep(POLL_S)
    running = time.perf_counter() - started
    return Sample(running, await platform_first_line(session, jobs_url, body, created))


async def platform_first_line(
    session: aiohttp.ClientSession, jobs_url: str, body: dict[str, str], created: list[str]
) -> float:
    """Submit → first line of a new job whose log the client asks for at once."""
    started = time.perf_counter()
    async with session.post(f"{jobs_url}?from_preset", json=body) as response:
        assert response.status == 202, await response.text()
        job_id = (await response.json())["id"]
    created.append(job_id)
    async with session.ws_connect(f"{jobs_url}/{job_id}/log_ws") as ws:
        message = await ws.receive()
    first_line = time.perf_counter() - started
    assert message.type is aiohttp.WSMsgType.BINARY
    assert message.data.startswith(b"ready")
    return first_line


async def remove_platform_jobs(
    session: aiohttp.ClientSession,
    engine: aiohttp.ClientSession,
    jobs_url: str,
    created: list[str],
    instance: str,
) -> None:
    """Kills the jobs, then waits until the platform has removed all of their containers."""
    for job_id in created:
        async with session.delete(f"{jobs_url}/{job_id}") as response:
            assert response.status == 204
    created.clear()
    filters = json.dumps({"label": [f"{LABEL_INSTANCE}={instance}"]})
    while True:
        async with engine.get(
            "http://docker/containers/json", params={"all": "1", "filters": filters}
        ) as response:
            if not await response.json():
                return
        await asyncio.sleep(0.1)


# -- the runs -------------------------------------------------------------------------------


async def sequential(make: Callable[[], Awaitable[Sample]], count: int) -> list[Sample]:
    return [await make() for _ in range(count)]


async def concurrent(
    make: Callable[[], Awaitable[Sample]], count: int
) -> tuple[list[Sample], float]:
    started = time.perf_counter()
    samples = await asyncio.gather(*(make() for _ in range(count)))
    return list(samples), time.perf_counter() - started


def median(samples: Sequence[Sample], field: str) -> float:
    return statistics.median(float(getattr(sample, field)) for sample in samples)


async def measure(
    server: PlatformServer, instance: str, image: str, count: int, rounds: int
) -> list[Row]:
    label = f"neuro-benchmark={uuid.uuid4().hex[:8]}"
    hosts_file = server.data_dir / "benchmark-hosts"
    hosts_file.write_text("127.0.0.1 localhost\n")
    network = f"neuro-benchmark-{uuid.uuid4().hex[:8]}"
    await run_docker("network", "create", network)
    job_like = JobLike(hosts_file, network)
    jobs_url = str(server.api_url / "jobs")
    headers = {"Authorization": f"Bearer {server.issue_token('bench')}"}
    engine_socket = aiohttp.UnixConnector(path="/var/run/docker.sock")
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        aiohttp.ClientSession(connector=engine_socket) as engine,
    ):
        created: list[str] = []

        def ours() -> Awaitable[Sample]:
            return platform_sample(session, jobs_url, created)

        def docker() -> Awaitable[Sample]:
            return docker_sample(engine, image, label, None)

        def docker_same() -> Awaitable[Sample]:
            return docker_sample(engine, image, label, job_like)

        async def ours_done() -> None:
            await remove_platform_jobs(session, engine, jobs_url, created, instance)

        async def docker_done() -> None:
            await remove_docker_containers(label)

        sides = ((ours, ours_done), (docker, docker_done), (docker_same, docker_done))
        try:
            for make, done in sides:  # warm up: image layers, the DB
                await make()
                await done()
            # Rounds take turns (ours, docker, docker*, ours, ...): a slow spell of the machine
            # then falls on every side instead of on whichever ran during it.
            seq: list[list[Sample]] = [[] for _ in sides]
            for _ in range(rounds):
                for side, (make, done) in enumerate(sides):
                    seq[side] += await sequential(make, count)
                    await done()
            con: list[list[Sample]] = [[] for _ in sides]
            walls: list[list[float]] = [[] for _ in sides]
            for _ in range(rounds):
                for side, (make, done) in enumerate(sides):
                    samples, wall = await concurrent(make, count)
                    con[side] += samples
                    walls[side].append(wall)
                    await done()
        finally:
            await docker_done()
            await run_docker("network", "rm", network)
    rows: list[Row] = []
    for field, title in (("running", "submit → RUNNING"), ("first_line", "submit → 1st line")):
        for mode, runs in (("sequential", seq), ("concurrent", con)):
            medians = [median(samples, field) for samples in runs]
            rows.append(Row(f"{mode} {title}", *medians))
    rows.append(Row(f"concurrent batch of {count}, wall", *(statistics.median(w) for w in walls)))
    return rows


def print_table(rows: Sequence[Row], count: int, rounds: int) -> None:
    print(f"\nJob start, {rounds} rounds of {count} jobs per case (medians, seconds)\n")
    width = max(len(row.case) for row in rows)
    print(
        f"{'case':<{width}}  {'ours':>7}  {'docker':>7}  {'ratio':>6}"
        f"  {'docker*':>7}  {'ratio*':>6}"
    )
    for row in rows:
        print(
            f"{row.case:<{width}}  {row.ours:7.3f}  {row.docker:7.3f}"
            f"  {row.ours / row.docker:6.2f}  {row.docker_same:7.3f}"
            f"  {row.ours / row.docker_same:6.2f}"
        )
    print(
        "\nratio = ours / plain `docker run`; ratio* = ours / `docker run` with the options"
        "\nof a job's container (docker*: hosts file, owner's network, host name, init,"
        "\nno-new-privileges, limits, log driver); target ≤ 1.30"
    )


# -- the Slurm case -------------------------------------------------------------------------


@dataclass(frozen=True)
class SlurmRow:
    case: str
    ours: float
    plain: float  # `sbatch` of the same `podman run`


def slurm_unavailable() -> str | None:
    """Why the Slurm case cannot run here, or None when the test cluster is up."""
    if missing := slurm.missing_prerequisites():
        return f"it needs {', '.join(missing)}"
    if not (slurm.CLUSTER_DIR / "run" / "slurmrestd.sock").exists():
        return "the test cluster is not up (scripts/slurm-cluster.sh up)"
    ping = subprocess.run(["scontrol", "ping"], env=slurm_env(), capture_output=True, check=False)
    if ping.returncode != 0:
        return "the test cluster's slurmctld does not answer (scripts/slurm-cluster.sh status)"
    return None


def slurm_env() -> dict[str, str]:
    return {**os.environ, "SLURM_CONF": str(slurm.CLUSTER_DIR / "etc" / "slurm.conf")}


async def slurm_queue_empty_of(prefix: str) -> None:
    """Waits until no Slurm job whose name starts with `prefix` is queued, running or ending."""
    while True:
        listing = await asyncio.create_subprocess_exec(
            "squeue", "-h", "-o", "%j", stdout=asyncio.subprocess.PIPE, env=slurm_env()
        )
        names = (await listing.communicate())[0].decode().split()
        if not any(name.startswith(prefix) for name in names):
            return
        await asyncio.sleep(0.1)


async def measure_slurm(
    server: PlatformServer, instance: str, count: int, rounds: int
) -> list[SlurmRow]:
    jobs_url = str(server.api_url / "jobs")
    headers = {"Authorization": f"Bearer {server.issue_token('bench')}"}
    work = slurm.CLUSTER_DIR / "shared" / f"bench-{instance}"
    work.mkdir()
    async with aiohttp.ClientSession(headers=headers) as session:
        created: list[str] = []

        async def ours() -> Sample:
            sample = await platform_sample(session, jobs_url, created)
            for job_id in created:
                async with session.delete(f"{jobs_url}/{job_id}") as response:
                    assert response.status == 204
            created.clear()
            await slurm_queue_empty_of(f"neuro-{instance}-")
            return sample

        async def theirs() -> Sample:
            running, first_line = await plain(work)
            await slurm_queue_empty_of(PLAIN_JOB_NAME)
            return Sample(running, first_line)

        try:
            await ours()  # warm up: each node loads the image once, the DB
            await theirs()
            samples: dict[str, list[Sample]] = {"ours": [], "plain": []}
            for _ in range(rounds):  # the sides take turns, as on Docker
                samples["ours"] += [await ours() for _ in range(count)]
                samples["plain"] += [await theirs() for _ in range(count)]
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return [
        SlurmRow(
            f"sequential {title}", median(samples["ours"], field), median(samples["plain"], field)
        )
        for field, title in (("running", "submit → RUNNING"), ("first_line", "submit → 1st line"))
    ]


def run_slurm_case(count: int, rounds: int) -> None:
    if reason := slurm_unavailable():
        print(f"\nJob start on Slurm: skipped, {reason}")
        return
    ensure_image()
    instance = f"bench-{uuid.uuid4().hex[:8]}"
    preset = {"name": "bench", "cpu": 0.1, "memory": 64 * MIB}
    config = {"clusters": [{"name": "default", "presets": [preset]}]}
    with (
        tempfile.TemporaryDirectory(prefix="job-start-bench-slurm-") as directory,
        slurm.running_slurm_platform(
            Path(directory),
            instance,
            slurm.start_cluster(),
            config=config,
            users={"bench": "bench-password"},
        ) as server,
    ):
        rows = asyncio.run(measure_slurm(server, instance, count, rounds))
    print(f"\nJob start on Slurm, {rounds} rounds of {count} jobs (medians, seconds)\n")
    width = max(len(row.case) for row in rows)
    print(f"{'case':<{width}}  {'ours':>7}  {'sbatch':>7}  {'ratio':>6}")
    for row in rows:
        ratio = row.ours / row.plain
        print(f"{row.case:<{width}}  {row.ours:7.3f}  {row.plain:7.3f}  {ratio:6.2f}")
    print(
        "\nratio = ours (the HTTP API, jobs on the Slurm test cluster) / a plain `sbatch`"
        "\nof the same `podman run`; target ≤ 1.30"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10, help="jobs per case (default 10)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per case (default 5)")
    parser.add_argument(
        "--engine", choices=("docker", "slurm", "both"), default="both", help="default both"
    )
    args = parser.parse_args()
    if args.engine != "slurm":
        run_docker_case(args.jobs, args.rounds)
    if args.engine != "docker":
        run_slurm_case(args.jobs, args.rounds)


def run_docker_case(count: int, rounds: int) -> None:
    image = build_base_image("busybox")
    instance = f"bench-{uuid.uuid4().hex[:8]}"
    config = {
        "jobs": {"orchestrator_instance": instance},
        # Room for every job at once, so that the scheduler never makes one wait.
        "node": {"cpu": 64.0, "memory": 64 * 2**30, "gpu": 0},
        "clusters": [
            {"name": "default", "presets": [{"name": "bench", "cpu": 0.1, "memory": 64 * MIB}]}
        ],
    }
    with tempfile.TemporaryDirectory(prefix="job-start-bench-") as directory:
        try:
            with running_platform(
                Path(directory), config=config, users={"bench": "bench-password"}
            ) as server:
                rows = asyncio.run(measure(server, instance, image, count, rounds))
        finally:
            remove_instance_containers(instance)
    print_table(rows, count, rounds)


if __name__ == "__main__":
    main()
