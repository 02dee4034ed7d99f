"""Jobs waiting in Slurm's own queue: the platform has room (its `[node]` is larger than the
cluster), Slurm has not, so Slurm decides. Its pending reasons reach the job's status
history, the job's priority orders Slurm's queue, its `schedule_timeout` ends the wait, and
its life span is Slurm's time limit."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from neuro_platform.settings import SlurmSettings
from neuro_platform.testing import PlatformServer

from ..jobs.client import POLL_S, JobsClient
from ..jobs.conftest import PRESETS, busybox_job
from .conftest import CLUSTER_DIR
from .test_slurm_platform import PLATFORM_CONFIG, server_on_cluster

pytestmark = pytest.mark.slurm

GIB = 1024**3
# A whole test node (2 CPUs): two of them fill the cluster.
WHOLE_NODE = {"name": "node", "cpu": 2.0, "memory": 256 * 1024**2}
SPOT_NODE = {**WHOLE_NODE, "name": "spot-node", "scheduler_enabled": True}
SLEEPER = "sleep 600"
RESOURCES = "Slurm: PENDING (Resources)"
PRIORITY = "Slurm: PENDING (Priority)"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, slurm_settings: SlurmSettings, busybox_image: str
) -> Iterator[PlatformServer]:
    config = {
        **PLATFORM_CONFIG,
        # Room for many more jobs than Slurm has: what waits, waits in Slurm's queue.
        "node": {"cpu": 64.0, "memory": 64 * GIB, "gpu": 0},
        "clusters": [{"name": "default", "presets": [*PRESETS, WHOLE_NODE, SPOT_NODE]}],
        # The test cluster's partition Slurm preempts (PreemptMode=REQUEUE, and JobRequeue=0).
        "slurm": {"preemptible_partition": "preemptible"},
    }
    yield from server_on_cluster(tmp_path_factory, "slurm-queue", slurm_settings, config)


@pytest.fixture
async def alice(server: PlatformServer) -> AsyncIterator[JobsClient]:
    async with JobsClient(server, "alice") as client:
        yield client
        # The next test starts with an empty queue: Slurm has forgotten this one's jobs.
        left = await client.list([("status", "pending"), ("status", "running")])
        for job in left:
            await client.kill(job["id"])
        for job in left:
            await client.wait_until_collected(job["id"])


def node_job(command: str = SLEEPER, **fields: Any) -> dict[str, Any]:
    return {**busybox_job(command), "preset_name": "node", **fields}


async def slurm_wait(client: JobsClient, job_id: str) -> str | None:
    """The job's description once it runs (None) or says why Slurm keeps it waiting."""
    while True:
        job = await client.get(job_id)
        if job["status"] != "pending":
            assert job["status"] == "running", job["history"]
            return None
        described = [s.get("description") or "" for s in job["statuses"]]
        # (None): Slurm has not looked at the job yet.
        waiting = [d for d in described if d.startswith("Slurm: PENDING") and "None" not in d]
        if waiting:
            return waiting[-1]
        await asyncio.sleep(POLL_S)


async def fill_the_cluster(client: JobsClient) -> list[str]:
    """Whole-node sleepers, once the nodes are free, until one waits in Slurm's queue;
    returns them all, the waiting one last."""
    await free_nodes()
    sleepers = []
    while True:
        job = await client.submit(node_job())
        sleepers.append(job["id"])
        why = await slurm_wait(client, job["id"])
        if why is not None:
            assert why in (RESOURCES, PRIORITY)
            return sleepers


async def noted(client: JobsClient, job_id: str, description: str) -> dict[str, Any]:
    """The job once its history has `description` (the test's timeout bounds the wait)."""
    while True:
        job = await client.get(job_id)
        if description in [s.get("description") for s in job["statuses"]]:
            return job
        await asyncio.sleep(POLL_S)


def slurm_env() -> dict[str, str]:
    return {**os.environ, "SLURM_CONF": str(CLUSTER_DIR / "etc" / "slurm.conf")}


def slurm_states(job_id: str) -> list[str]:
    """The states of every Slurm job run for the platform job (by its name)."""
    listed = subprocess.run(
        ["squeue", "-h", "-t", "all", "-o", "%j %T"],
        capture_output=True,
        text=True,
        env=slurm_env(),
        check=True,
    ).stdout
    rows = [line.split() for line in listed.splitlines()]
    return [row[1] for row in rows if len(row) == 2 and row[0].endswith(job_id)]


async def free_nodes() -> None:
    """Until no job waits for or holds a node of partitions `main` and `preemptible`.

    These tests fill those nodes and count on what then waits or runs being theirs; the Slurm
    tests before them run one at a time (pytest_plugin.py), but a job they cancelled holds its
    node until it has completed (COMPLETING), and would free it in the middle of a test."""
    while True:
        if not jobs_on_main_nodes():
            return
        await asyncio.sleep(POLL_S)


def jobs_on_main_nodes() -> list[str]:
    """Slurm's jobs that wait for or hold a node of partitions `main` and `preemptible`."""
    listed = subprocess.run(
        ["squeue", "-h", "-p", "main,preemptible", "-o", "%i"],
        capture_output=True,
        text=True,
        env=slurm_env(),
        check=True,
    ).stdout
    return listed.split()


def slurm_job(job_id: str) -> dict[str, str]:
    """Slurm's own view of the platform job: nice, time limit, state."""
    slurm_id = next((CLUSTER_DIR / "shared" / "jobs").glob(f"*/{job_id}/slurm-id")).read_text()
    shown = subprocess.run(
        ["scontrol", "show", "job", slurm_id.strip()],
        capture_output=True,
        text=True,
        env=slurm_env(),
        check=True,
    ).stdout
    return dict(field.split("=", 1) for field in shown.split() if "=" in field)


async def test_slurm_pending_reasons_reach_the_status_history(alice: JobsClient) -> None:
    sleepers = await fill_the_cluster(alice)
    behind = await alice.submit(node_job())

    # Slurm runs jobs in order: the one behind the waiting one waits for its Priority, the
    # first in the queue for Resources (at once, unless other tests' jobs were ahead).
    assert await slurm_wait(alice, behind["id"]) == PRIORITY
    job = await noted(alice, sleepers[-1], RESOURCES)
    assert job["status"] == "pending"
    assert job["history"]["reason"] == "Scheduling"


async def test_priority_orders_slurms_queue(alice: JobsClient) -> None:
    sleepers = await fill_the_cluster(alice)
    low = await alice.submit(node_job(priority="low"))
    high = await alice.submit(node_job(priority="high"))
    await slurm_wait(alice, low["id"])
    await slurm_wait(alice, high["id"])  # or it ran already, in room another test freed
    assert (slurm_job(low["id"])["Nice"], slurm_job(high["id"])["Nice"]) == ("20000", "0")

    # The running sleepers end: their nodes go to `high` and the waiting sleeper (normal),
    # in that order, never to `low`.
    for sleeper in sleepers[:-1]:
        await alice.kill(sleeper)

    await alice.wait_for(high["id"], {"running"})
    assert (await alice.get(low["id"]))["status"] == "pending"


async def test_schedule_timeout_ends_a_wait_in_slurms_queue(alice: JobsClient) -> None:
    await fill_the_cluster(alice)
    job = await alice.submit(node_job(schedule_timeout=2))

    failed = await alice.wait_for(job["id"], {"failed"})

    assert failed["history"]["reason"] == "ClusterScaleUpFailed"
    assert "schedule timeout of 2" in failed["history"]["description"]
    assert {RESOURCES, PRIORITY} & {s.get("description") for s in failed["statuses"]}
    # Its Slurm job is cancelled with it, not left to start later.
    await alice.wait_until_collected(job["id"])
    assert slurm_states(job["id"]) == ["CANCELLED"]


async def test_the_life_span_is_slurms_time_limit(alice: JobsClient) -> None:
    job = await alice.submit(busybox_job(SLEEPER, max_run_time_minutes=2))
    await alice.wait_for(job["id"], {"running"})
    forever = await alice.submit(busybox_job(SLEEPER))
    await alice.wait_for(forever["id"], {"running"})

    assert slurm_job(job["id"])["TimeLimit"] == "00:02:00"
    assert slurm_job(forever["id"])["TimeLimit"] == "UNLIMITED"


async def test_a_job_slurm_preempts_is_suspended_and_runs_again(alice: JobsClient) -> None:
    # Spot jobs on every node Slurm has room on, and one waiting (the cluster is full).
    await free_nodes()
    spots = []
    while True:
        spot = await alice.submit(node_job(preset_name="spot-node"))
        spots.append(spot["id"])
        if await slurm_wait(alice, spot["id"]) is not None:
            break
    running = [job_id for job_id in spots[:-1]]
    assert running, "no node was free for a spot job"

    # A job of the main partition, which Slurm may preempt the spot partition for.
    urgent = await alice.submit(node_job())
    await alice.wait_for(urgent["id"], {"running"})

    preempted = await suspended(alice, running)
    assert preempted["history"]["reason"] == "Preempted"
    assert "Slurm: PREEMPTED" in preempted["history"]["description"]
    # Room again: it runs again (as a new Slurm job), as a suspended job does on Docker.
    await alice.kill(urgent["id"])
    for job_id in spots:
        if job_id != preempted["id"]:
            await alice.kill(job_id)
    await alice.wait_for(preempted["id"], {"running"})


async def suspended(client: JobsClient, job_ids: list[str]) -> dict[str, Any]:
    """The first of the jobs seen suspended (the test's timeout bounds the wait)."""
    while True:
        for job_id in job_ids:
            job = await client.get(job_id)
            if "suspended" in [s["status"] for s in job["statuses"]]:
                return job
        await asyncio.sleep(POLL_S)
