"""A node whose slurmd dies: its job ends with Slurm's NODE_FAIL, and the node comes back."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from neuro_platform.orchestrator import ContainerPhase, ContainerSpec, JobReason, SlurmOrchestrator
from neuro_platform.settings import SlurmSettings
from neuro_platform.testing import running_platform
from neuro_platform.testing.fixtures import USERS

from ..jobs.client import JobsClient
from ..jobs.conftest import busybox_job
from .conftest import CLUSTER_SCRIPT, cancel_instance_jobs, first_output
from .test_slurm_platform import slurm_config

pytestmark = pytest.mark.slurm

NODES = {"10.219.0.11": "node1", "10.219.0.12": "node2"}


async def test_a_dead_node_fails_its_job_and_then_serves_again(
    orchestrator: SlurmOrchestrator,
    make_spec: Callable[..., ContainerSpec],
    slurm_cluster: Path,
) -> None:
    spec = make_spec("sh", "-c", "echo up; sleep 600")
    await orchestrator.start(spec)
    # Its first line, not just Slurm's RUNNING: a node that dies before it launched the batch
    # script has its job requeued, whatever JobRequeue says.
    assert (await first_output(orchestrator, spec.job_id)).strip() == b"up"
    state = await orchestrator.state(spec.job_id)
    assert state.phase is ContainerPhase.RUNNING, state
    assert state.address in NODES
    node = NODES[state.address]

    pid_file = slurm_cluster / "run" / f"slurmd-{node}.pid"
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    try:
        # SlurmdTimeout=30: NOT_RESPONDING, then DOWN and NODE_FAIL about 47 s later.
        async with asyncio.timeout(180):
            final = await orchestrator.wait(spec.job_id)
    finally:
        # Brings the dead slurmd back; ReturnToService=2 makes its node usable again.
        await asyncio.to_thread(
            subprocess.run, [str(CLUSTER_SCRIPT), "up"], check=True, capture_output=True
        )

    assert final.phase is ContainerPhase.EXITED
    assert final.reason is JobReason.ERROR
    assert final.message is not None
    assert "NODE_FAIL" in final.message

    # Both nodes take jobs again: two 2-CPU jobs run side by side.
    specs = [make_spec("sh", "-c", "hostname; sleep 600", cpu=2) for _ in range(2)]
    for again in specs:
        await orchestrator.start(again)
    hosts = {(await first_output(orchestrator, again.job_id)).strip() for again in specs}
    assert hosts == {b"node1", b"node2"}


async def test_a_job_with_a_restart_policy_runs_again_after_its_node_died(
    tmp_path: Path, slurm_settings: SlurmSettings, slurm_cluster: Path, busybox_image: str
) -> None:
    instance = f"test-{uuid.uuid4().hex[:12]}"
    try:
        with running_platform(
            tmp_path, config=slurm_config(instance, slurm_settings), users=USERS
        ) as server:
            async with JobsClient(server, "alice") as alice:
                body = busybox_job("hostname; sleep 600", restart_policy="on-failure")
                job = await alice.submit(body)
                await alice.wait_for(job["id"], {"running"})
                async with SlurmOrchestrator(instance=instance, settings=slurm_settings) as slurm:
                    node = (await first_output(slurm, job["id"])).strip().decode()
                pid_file = slurm_cluster / "run" / f"slurmd-{node}.pid"
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
                try:
                    restarted = await alice.wait_for_restarts(job["id"], 1)
                    await alice.wait_for(job["id"], {"running"})
                finally:
                    await asyncio.to_thread(
                        subprocess.run, [str(CLUSTER_SCRIPT), "up"], check=True, capture_output=True
                    )
                assert restarted["history"]["restarts"] == 1
                # Its second run: on either node (the dead one is brought back at once above,
                # and Slurm may give it that node again).
                async with SlurmOrchestrator(instance=instance, settings=slurm_settings) as slurm:
                    assert (await first_output(slurm, job["id"])).strip() in (b"node1", b"node2")
                assert await alice.kill(job["id"]) == 204
    finally:
        cancel_instance_jobs(instance)
        shutil.rmtree(slurm_settings.shared_dir / "jobs" / instance, ignore_errors=True)
