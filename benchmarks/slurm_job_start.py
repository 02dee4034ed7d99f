"""Job start on Slurm: the Slurm orchestrator against a plain `sbatch` of the same podman run.

Needs the test cluster (`scripts/slurm-cluster.sh up`). For jobs that print a line and sleep,
one after another, it measures

* submit -> RUNNING: ours is `SlurmOrchestrator.start` until `state()` says running (the
  container has started); plain's is `sbatch` until the batch script has started podman
  (a marker file it writes after `podman run -d` returns);
* submit -> first log line: both until the first line is in the container's log file (ours
  read through `logs()`, plain's read directly), each on a job of its own submitted while
  the RUNNING one still runs (so both meet Slurm's `batch_sched_delay` alike: see `plain`);

and then the sustained rate of `submit()` (start() without its wait for the container).
Both sides poll every POLL_S. Orchestrator level, not the HTTP API: the API's own share is
what benchmarks/job_start.py measures on Docker. Not a test: run it by hand,

    uv run python benchmarks/slurm_job_start.py --jobs 10 --burst 200
"""

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import time
import uuid
from dataclasses import replace
from pathlib import Path

from neuro_platform.orchestrator import ContainerPhase, ContainerSpec, SlurmOrchestrator
from neuro_platform.orchestrator.slurm_script import image_archive_name
from neuro_platform.orchestrator.testing import BUSYBOX_IMAGE, build_base_image
from neuro_platform.settings import SlurmSettings

CLUSTER = Path("/tmp/neuro-slurm")
POLL_S = 0.01
MIB = 2**20
PLAIN_JOB_NAME = "bench-plain"  # what benchmarks/job_start.py waits to leave the queue


def settings() -> SlurmSettings:
    return SlurmSettings(
        restd_socket=CLUSTER / "run" / "slurmrestd.sock",
        token_file=CLUSTER / "etc" / "token",
        shared_dir=CLUSTER / "shared",
        node_env_file=CLUSTER / "etc" / "node.env",
        slurm_conf=CLUSTER / "etc" / "slurm.conf",
    )


def ensure_image() -> None:
    build_base_image("busybox")
    archive = CLUSTER / "shared" / "images" / image_archive_name(BUSYBOX_IMAGE)
    if not archive.exists():
        subprocess.run(["docker", "save", "-o", str(archive), BUSYBOX_IMAGE], check=True)


async def ours(orchestrator: SlurmOrchestrator) -> tuple[float, float]:
    spec = ContainerSpec(
        job_id=f"bench-{uuid.uuid4().hex[:12]}",
        owner="bench",
        image=BUSYBOX_IMAGE,
        cpu=0.5,
        memory=64 * MIB,
        command=("sh", "-c", "echo ready; sleep 60"),
    )
    begin = time.monotonic()
    await orchestrator.start(spec)
    # Polling is the method: both sides are polled alike (see the module docstring).
    while (await orchestrator.state(spec.job_id)).phase is not ContainerPhase.RUNNING:  # noqa: ASYNC110
        await asyncio.sleep(POLL_S)
    running = time.monotonic() - begin
    first_line = await _first_line(orchestrator, replace(spec, job_id=spec.job_id + "-log"))
    await orchestrator.remove(spec.job_id)
    return running, first_line


async def _first_line(orchestrator: SlurmOrchestrator, spec: ContainerSpec) -> float:
    begin = time.monotonic()
    await orchestrator.start(spec)
    while True:
        chunks = [c async for c in orchestrator.logs(spec.job_id)]
        if b"ready" in b"".join(chunks):
            break
        await asyncio.sleep(POLL_S)
    elapsed = time.monotonic() - begin
    await orchestrator.remove(spec.job_id)
    return elapsed


async def plain(work: Path) -> tuple[float, float]:
    """RUNNING of one job, then the first line of a second one submitted while the first
    runs, as `ours` measures: Slurm defers a batch job submitted within `batch_sched_delay`
    (3 s by default) of its last scheduling pass, so a first line taken on the job already
    polled to RUNNING would spare plain a wait that ours pays."""
    first_id, running, _ = await _plain_job(work)
    second_id, _, first_line = await _plain_job(work)
    cancel = await asyncio.create_subprocess_exec("scancel", first_id, second_id, env=_env())
    await cancel.wait()
    return running, first_line


async def _plain_job(work: Path) -> tuple[str, float, float]:
    """A plain job's Slurm id, its submit -> RUNNING and submit -> first line; it runs on."""
    run = work / uuid.uuid4().hex
    run.mkdir()
    name = f"plain-{run.name}"
    script = (
        f". {CLUSTER}/etc/node.env\n"
        f"podman run -d --name {name} --network=host --log-driver k8s-file "
        f"--log-opt path={run}/log --cpus 0.5 --memory {64 * MIB}b {BUSYBOX_IMAGE} "
        "sh -c 'echo ready; sleep 60' >/dev/null\n"
        f"touch {run}/started\n"
        f"trap 'podman rm -f -t 0 {name}' TERM\n"
        f"podman wait {name} & wait\n"
    )
    begin = time.monotonic()
    submitted = await asyncio.create_subprocess_exec(
        "sbatch", "--parsable", "-o", "/dev/null", "--mem=64", f"--job-name={PLAIN_JOB_NAME}",
        "--wrap", script,
        stdout=asyncio.subprocess.PIPE, env=_env(),
    )  # fmt: skip
    slurm_id = (await submitted.communicate())[0].decode().strip()
    running = first_line = 0.0
    while not first_line:
        if not running and (run / "started").exists():
            running = time.monotonic() - begin
        if (run / "log").exists() and b"ready" in (run / "log").read_bytes():
            first_line = time.monotonic() - begin
        await asyncio.sleep(POLL_S)
    while not (run / "started").exists():  # noqa: ASYNC110 - polled like our side
        await asyncio.sleep(POLL_S)
    running = running or time.monotonic() - begin
    return slurm_id, running, first_line


def _env() -> dict[str, str]:
    return {**os.environ, "SLURM_CONF": str(CLUSTER / "etc" / "slurm.conf")}


async def burst(orchestrator: SlurmOrchestrator, count: int) -> float:
    specs = [
        ContainerSpec(
            job_id=f"burst-{uuid.uuid4().hex[:12]}",
            owner="bench",
            image=BUSYBOX_IMAGE,
            cpu=0.5,
            memory=64 * MIB,
            command=("true",),
        )
        for _ in range(count)
    ]
    begin = time.monotonic()
    await asyncio.gather(*(orchestrator.submit(spec) for spec in specs))
    elapsed = time.monotonic() - begin
    await asyncio.gather(*(orchestrator.remove(spec.job_id) for spec in specs))
    return count / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    ensure_image()
    work = CLUSTER / "shared" / "bench"
    work.mkdir(exist_ok=True)
    results: dict[str, list[tuple[float, float]]] = {"ours": [], "plain": []}
    async with SlurmOrchestrator(instance="bench", settings=settings()) as orchestrator:
        await ours(orchestrator)  # warm-up: each node loads the image once
        await plain(work)
        for _ in range(args.jobs):  # alternate, so both sides see the same cluster state
            results["ours"].append(await ours(orchestrator))
            results["plain"].append(await plain(work))
        rate = await burst(orchestrator, args.burst)
    shutil.rmtree(work, ignore_errors=True)
    medians = {
        side: (statistics.median(r for r, _ in s), statistics.median(f for _, f in s))
        for side, s in results.items()
    }
    for side, (running, first) in medians.items():
        print(f"{side:>5}: submit->RUNNING {running:.3f} s, submit->first line {first:.3f} s")
    print(
        f"ratio: RUNNING {medians['ours'][0] / medians['plain'][0]:.2f}x, "
        f"first line {medians['ours'][1] / medians['plain'][1]:.2f}x (target <= 1.30)"
    )
    print(f"sustained submissions: {rate:.0f}/s ({args.burst} concurrent submit() calls)")


if __name__ == "__main__":
    asyncio.run(main())
