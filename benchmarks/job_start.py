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

once one job after another (sequential) and once all at once (concurrent). Prints medians, the
concurrent batch's wall time, and the ratio ours / raw Docker (target: at most 1.30). Not a
test: run it by hand,

    uv run python benchmarks/job_start.py                 # 10 sequential, 10 concurrent
    uv run python benchmarks/job_start.py --jobs 5
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from neuro_platform.orchestrator.testing import build_base_image, remove_instance_containers
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
    docker: float

    @property
    def ratio(self) -> float:
        return self.ours / self.docker


# -- raw Docker -----------------------------------------------------------------------------


async def docker_sample(engine: aiohttp.ClientSession, image: str, label: str) -> Sample:
    name = f"bench-{uuid.uuid4().hex[:12]}"
    started = time.perf_counter()
    detached = await asyncio.create_subprocess_exec(
        *("docker", "run", "-d", "--label", label, "--name", name, image),
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
        *("docker", "run", "--rm", "--label", label, "--name", f"{name}-a", image),
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


async def platform_sample(session: aiohttp.ClientSession, jobs_url: str) -> Sample:
    body = {"image": "neuro-base/busybox:latest", "command": f"sh -c '{JOB_SCRIPT}'"}
    body["preset_name"] = "bench"
    started = time.perf_counter()
    async with session.post(f"{jobs_url}?from_preset", json=body) as response:
        assert response.status == 202, await response.text()
        job_id = (await response.json())["id"]
    while True:
        async with session.get(f"{jobs_url}/{job_id}") as response:
            status = (await response.json())["status"]
        if status == "running":
            break
        assert status == "pending", status
        await asyncio.sleep(POLL_S)
    running = time.perf_counter() - started
    async with session.delete(f"{jobs_url}/{job_id}") as response:
        assert response.status == 204
    return Sample(running, await platform_first_line(session, jobs_url, body))


async def platform_first_line(
    session: aiohttp.ClientSession, jobs_url: str, body: dict[str, str]
) -> float:
    """Submit → first line of a new job whose log the client asks for at once."""
    started = time.perf_counter()
    async with session.post(f"{jobs_url}?from_preset", json=body) as response:
        assert response.status == 202, await response.text()
        job_id = (await response.json())["id"]
    async with session.ws_connect(f"{jobs_url}/{job_id}/log_ws") as ws:
        message = await ws.receive()
    first_line = time.perf_counter() - started
    assert message.type is aiohttp.WSMsgType.BINARY
    assert message.data.startswith(b"ready")
    async with session.delete(f"{jobs_url}/{job_id}") as response:
        assert response.status == 204
    return first_line


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


async def measure(server: PlatformServer, image: str, count: int) -> list[Row]:
    label = f"neuro-benchmark={uuid.uuid4().hex[:8]}"
    jobs_url = str(server.api_url / "jobs")
    headers = {"Authorization": f"Bearer {server.issue_token('bench')}"}
    rows: list[Row] = []
    engine_socket = aiohttp.UnixConnector(path="/var/run/docker.sock")
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        aiohttp.ClientSession(connector=engine_socket) as engine,
    ):

        def ours() -> Awaitable[Sample]:
            return platform_sample(session, jobs_url)

        def docker() -> Awaitable[Sample]:
            return docker_sample(engine, image, label)

        try:
            await docker()  # warm both paths up: image layers, the job network, the DB
            await ours()
            seq_ours = await sequential(ours, count)
            seq_docker = await sequential(docker, count)
            await remove_docker_containers(label)
            con_ours, wall_ours = await concurrent(ours, count)
            con_docker, wall_docker = await concurrent(docker, count)
        finally:
            await remove_docker_containers(label)
    for field, title in (("running", "submit → RUNNING"), ("first_line", "submit → 1st line")):
        rows.append(
            Row(
                f"sequential {title}",
                median(seq_ours, field),
                median(seq_docker, field),
            )
        )
        rows.append(
            Row(
                f"concurrent {title}",
                median(con_ours, field),
                median(con_docker, field),
            )
        )
    rows.append(Row(f"concurrent batch of {count}, wall", wall_ours, wall_docker))
    return rows


def print_table(rows: Sequence[Row], count: int) -> None:
    print(f"\nJob start, {count} jobs per case (medians, seconds)\n")
    width = max(len(row.case) for row in rows)
    print(f"{'case':<{width}}  {'ours':>7}  {'docker':>7}  {'ratio':>6}")
    for row in rows:
        print(f"{row.case:<{width}}  {row.ours:7.3f}  {row.docker:7.3f}  {row.ratio:6.2f}")
    print("\nratio = ours / raw docker run; target ≤ 1.30")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10, help="jobs per case (default 10)")
    args = parser.parse_args()
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
                rows = asyncio.run(measure(server, image, args.jobs))
        finally:
            remove_instance_containers(instance)
    print_table(rows, args.jobs)


if __name__ == "__main__":
    main()
