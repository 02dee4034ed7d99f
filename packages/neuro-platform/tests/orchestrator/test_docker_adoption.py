"""Labels tie containers to jobs, so a restarted platform finds every job it ran."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import aiodocker
import pytest

from neuro_platform.orchestrator import (
    ContainerPhase,
    ContainerSpec,
    DockerOrchestrator,
    JobReason,
)
from neuro_platform.orchestrator.naming import LABEL_INSTANCE, LABEL_JOB_ID, LABEL_OWNER

SpecFactory = Callable[..., ContainerSpec]
MIB = 1024**2


@pytest.fixture
async def docker() -> AsyncIterator[aiodocker.Docker]:
    """The engine seen directly, as an operator with `docker inspect` would see it."""
    async with aiodocker.Docker() as docker:
        yield docker


async def test_a_restarted_platform_re_adopts_running_and_finished_jobs(
    instance: str, make_spec: SpecFactory
) -> None:
    running, finished = make_spec("sleep", "300"), make_spec("sh", "-c", "exit 5")
    async with DockerOrchestrator(instance=instance) as before_restart:
        await before_restart.start(running)
        await before_restart.start(finished)
        await before_restart.wait(finished.job_id)

    async with DockerOrchestrator(instance=instance) as after_restart:
        adopted = {state.job_id: state for state in await after_restart.list_managed()}
        try:
            assert adopted.keys() == {running.job_id, finished.job_id}
            assert adopted[running.job_id].phase is ContainerPhase.RUNNING
            assert adopted[finished.job_id].phase is ContainerPhase.EXITED
            assert (adopted[finished.job_id].exit_code, adopted[finished.job_id].reason) == (
                5,
                JobReason.ERROR,
            )
            # and the adopted job is still under control
            await after_restart.kill(running.job_id)
            assert (await after_restart.wait(running.job_id)).exit_code == 137
        finally:
            await after_restart.remove(running.job_id)
            await after_restart.remove(finished.job_id)


async def test_another_platform_instance_does_not_see_our_jobs(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sleep", "300")
    await orchestrator.start(spec)

    async with DockerOrchestrator(instance=f"other-{uuid.uuid4().hex[:8]}") as other:
        assert await other.list_managed() == []


async def test_container_carries_job_labels_and_resource_limits(
    orchestrator: DockerOrchestrator,
    make_spec: SpecFactory,
    docker: aiodocker.Docker,
    instance: str,
) -> None:
    spec = make_spec(
        "sleep",
        "300",
        owner="bob",
        cpu=0.25,
        memory=48 * MIB,
        shm=True,
        labels={"team": "vision", LABEL_OWNER: "mallory"},
    )
    await orchestrator.start(spec)

    info = (await docker.containers.list(filters={"label": [f"{LABEL_JOB_ID}={spec.job_id}"]}))[0]
    details = await info.show()

    labels = details["Config"]["Labels"]
    assert labels[LABEL_JOB_ID] == spec.job_id
    assert labels[LABEL_INSTANCE] == instance
    assert labels[LABEL_OWNER] == "bob"  # a job's own labels cannot claim another owner
    assert labels["team"] == "vision"
    host_config = details["HostConfig"]
    assert host_config["NanoCpus"] == 250_000_000
    assert host_config["Memory"] == host_config["MemorySwap"] == 48 * MIB
    assert host_config["ShmSize"] == 48 * MIB
    assert host_config["Privileged"] is False
