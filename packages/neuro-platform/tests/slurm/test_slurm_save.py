"""`job save` on Slurm (docs/scale-out.md): a step on the job's node commits its container and
saves it into the job's folder, the platform host's dockerd loads and pushes it.

The registry listens on the platform host's loopback, which the nodes cannot reach, so the
saved image is run by the Docker engine: in the server below the Slurm cluster `hpc` comes
first (the registry's images are `hpc`'s) and `onprem` runs on the local dockerd.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from neuro_platform.orchestrator import ContainerSpec, OrchestratorError, SlurmOrchestrator
from neuro_platform.orchestrator.errors import ContainerNotRunningError
from neuro_platform.orchestrator.slurm_images import SAVE_SCRIPT, archive_path, failure_reason
from neuro_platform.orchestrator.testing import remove_instance_containers
from neuro_platform.settings import SlurmSettings
from neuro_platform.testing import PlatformServer, running_platform
from neuro_platform.testing.fixtures import USERS
from neuro_platform.testing.original_cli import run_original

from ..jobs.client import JobsClient
from ..jobs.conftest import PRESETS, busybox_job
from ..jobs.test_job_images import _tags, _wait_for_file, job_output, registry_host, save
from .conftest import cancel_instance_jobs, first_output
from .test_slurm_platform import slurm_config

WRITE_THEN_SLEEP = ("sh", "-c", "echo saved > /saved.txt; echo ready; sleep 1000")


def docker_run(image: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "run", "--rm", image, *command], capture_output=True, text=True, check=False
    )


def local_image_exists(image: str) -> bool:
    inspected = subprocess.run(["docker", "image", "inspect", image], capture_output=True)
    return inspected.returncode == 0


def node_has_image(settings: SlurmSettings, image: str) -> bool:
    """Whether either node's podman still holds `image` (read from the node's own storage)."""
    for node in ("node1", "node2"):
        storage = settings.shared_dir.parent / "nodes" / node / "storage.conf"
        env = {"CONTAINERS_STORAGE_CONF": str(storage), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        found = subprocess.run(["podman", "image", "exists", image], env=env, check=False)
        if found.returncode == 0:
            return True
    return False


def leftover_archives(job_dir: Path) -> list[Path]:
    return sorted(job_dir.glob("save-*"))


# -- no cluster -------------------------------------------------------------------------------


def test_the_container_image_and_archive_are_arguments_never_script_text() -> None:
    for argument in ('"$1"', '"$2"', '"$3"'):
        assert argument in SAVE_SCRIPT
    assert "$(" not in SAVE_SCRIPT
    assert "`" not in SAVE_SCRIPT


def test_the_reason_is_podmans_line_not_sruns() -> None:
    stderr = (
        "Error: invalid reference format: repository name must be lowercase\n"
        "srun: error: node1: task 0: Exited with exit code 125\n"
    )

    assert (
        failure_reason(stderr)
        == "Error: invalid reference format: repository name must be lowercase"
    )
    assert failure_reason("srun: error: Unable to create step for job 7: Job has ended\n") == (
        "srun: error: Unable to create step for job 7: Job has ended"
    )
    assert failure_reason("") == "the step failed"


# -- the orchestrator ------------------------------------------------------------------------


@pytest.mark.slurm
async def test_a_saved_container_has_the_jobs_file_and_leaves_no_archive_nor_node_copy(
    orchestrator: SlurmOrchestrator,
    make_spec: Callable[..., ContainerSpec],
    slurm_settings: SlurmSettings,
    instance: str,
) -> None:
    spec = make_spec(*WRITE_THEN_SLEEP)
    await orchestrator.start(spec)
    assert await first_output(orchestrator, spec.job_id) == b"ready\n"
    # A registry that is never pushed to: the commit alone is under test here.
    image = f"127.0.0.1:1/alice/slurm-save-{uuid.uuid4().hex[:8]}:v1"

    await orchestrator.commit(spec.job_id, image)

    try:
        ran = docker_run(image, "cat", "/saved.txt")
        assert (ran.returncode, ran.stdout) == (0, "saved\n"), ran.stderr
    finally:
        await orchestrator.remove_image(image)
    assert not local_image_exists(image)
    assert leftover_archives(slurm_settings.shared_dir / "jobs" / instance / spec.job_id) == []
    assert not node_has_image(slurm_settings, image)


@pytest.mark.slurm
async def test_a_failed_commit_says_podmans_reason_and_leaves_no_archive(
    orchestrator: SlurmOrchestrator,
    make_spec: Callable[..., ContainerSpec],
    slurm_settings: SlurmSettings,
    instance: str,
) -> None:
    spec = make_spec(*WRITE_THEN_SLEEP)
    await orchestrator.start(spec)
    assert await first_output(orchestrator, spec.job_id) == b"ready\n"

    # Upper case passes the platform's own check but not podman's reference grammar.
    with pytest.raises(OrchestratorError) as failed:
        await orchestrator.commit(spec.job_id, "127.0.0.1:1/alice/NotLowerCase:v1")

    assert failed.value.message.startswith("Cannot commit the job's container: ")
    assert "lowercase" in failed.value.message  # podman's own words, not srun's
    assert "srun:" not in failed.value.message
    assert leftover_archives(slurm_settings.shared_dir / "jobs" / instance / spec.job_id) == []


@pytest.mark.slurm
async def test_an_unreachable_dockerd_fails_the_save_and_the_written_archive_is_removed(
    instance: str,
    slurm_settings: SlurmSettings,
    make_spec: Callable[..., ContainerSpec],
    tmp_path: Path,
) -> None:
    nowhere = f"unix://{tmp_path / 'no-dockerd.sock'}"
    async with SlurmOrchestrator(
        instance=instance, settings=slurm_settings, docker_url=nowhere
    ) as orchestrator:
        spec = make_spec(*WRITE_THEN_SLEEP)
        await orchestrator.start(spec)
        assert await first_output(orchestrator, spec.job_id) == b"ready\n"
        image = f"127.0.0.1:1/alice/unloaded-{uuid.uuid4().hex[:8]}:v1"

        with pytest.raises(OrchestratorError) as failed:
            await orchestrator.commit(spec.job_id, image)

        assert failed.value.message.startswith("Cannot load the job's image: ")
        job_dir = slurm_settings.shared_dir / "jobs" / instance / spec.job_id
        assert leftover_archives(job_dir) == []
        assert not node_has_image(slurm_settings, image)
        await orchestrator.remove(spec.job_id)


@pytest.mark.slurm
async def test_only_a_running_job_is_saved_and_a_job_id_cannot_leave_the_jobs_folder(
    orchestrator: SlurmOrchestrator,
    make_spec: Callable[..., ContainerSpec],
    slurm_settings: SlurmSettings,
) -> None:
    done = make_spec("true")
    await orchestrator.start(done)
    await orchestrator.wait(done.job_id)

    with pytest.raises(ContainerNotRunningError):
        await orchestrator.commit(done.job_id, "127.0.0.1:1/alice/late:v1")
    for hostile in ("../../images", "..", "job-x/../../other"):
        with pytest.raises((ValueError, OrchestratorError)):
            await orchestrator.commit(hostile, "127.0.0.1:1/alice/x:v1")
    # The archive's name is the platform's, in the job's folder whatever the image is called.
    job_dir = slurm_settings.shared_dir / "jobs" / "some-instance" / "job-1"
    assert archive_path(job_dir).parent == job_dir


# -- the platform: the API, the permission checks, the original CLI --------------------------


@pytest.fixture(scope="module")
def save_server(
    tmp_path_factory: pytest.TempPathFactory, slurm_settings: SlurmSettings, busybox_image: str
) -> Iterator[PlatformServer]:
    instance = f"test-{uuid.uuid4().hex[:12]}"
    config = slurm_config(instance, slurm_settings)
    config["clusters"] = [
        {"name": "hpc", "presets": PRESETS, "engine": "slurm"},
        {"name": "onprem", "presets": PRESETS, "engine": "docker", "node": {"cpu": 2.0}},
    ]
    try:
        with running_platform(
            tmp_path_factory.mktemp("slurm-save"), config=config, users=USERS
        ) as server:
            yield server
    finally:
        cancel_instance_jobs(instance)
        shutil.rmtree(slurm_settings.shared_dir / "jobs" / instance, ignore_errors=True)
        remove_instance_containers(instance)


@pytest.fixture
async def alice(save_server: PlatformServer) -> AsyncIterator[JobsClient]:
    async with JobsClient(save_server, "alice") as client:
        yield client
        for job in await client.list([("status", "running"), ("owner", "alice")]):
            await client.kill(job["id"])


@pytest.fixture
async def bob(save_server: PlatformServer) -> AsyncIterator[JobsClient]:
    async with JobsClient(save_server, "bob") as client:
        yield client


async def running_writer(client: JobsClient) -> dict[str, Any]:
    job = await client.submit(
        busybox_job("echo saved > /saved.txt; sleep 1000", cluster_name="hpc")
    )
    await client.wait_for(job["id"], ["running"])
    await _wait_for_file(client, job["id"])
    return job


async def runs_on_docker(client: JobsClient, image: str) -> bytes:
    body = {"image": image, "command": "cat /saved.txt", "preset_name": "small"}
    job = await client.submit({**body, "cluster_name": "onprem"})
    return await job_output(client, job["id"])


@pytest.mark.slurm
async def test_a_slurm_job_saved_through_the_api_runs_again_from_its_image(
    save_server: PlatformServer, alice: JobsClient
) -> None:
    running = await running_writer(alice)
    target = f"{registry_host(save_server)}/alice/slurm-snapshot-{uuid.uuid4().hex[:8]}:v1"

    status, items, _ = await save(alice, running["id"], target)

    assert status == 200
    assert items[0] == {
        "status": "CommitStarted",
        "details": {"container": running["id"], "image": target},
    }
    assert items[1] == {"status": "CommitFinished"}
    assert not any("error" in item for item in items), items
    assert any("aux" in item for item in items)  # dockerd's digest of the push
    assert not local_image_exists(target)  # the host's copy is removed again
    assert (await runs_on_docker(alice, target)).strip() == b"saved"


@pytest.mark.slurm
async def test_bob_can_neither_save_alices_job_nor_save_into_her_namespace(
    save_server: PlatformServer, alice: JobsClient, bob: JobsClient
) -> None:
    running = await running_writer(alice)
    host = registry_host(save_server)

    # bob may not save alice's job, even into his own namespace
    status, _, _ = await save(bob, running["id"], f"{host}/bob/stolen:v1")
    assert status == 403
    assert await _tags(bob, save_server, "bob/stolen") == 404
    # and his own job may not be saved into alice's
    own = await bob.submit(busybox_job("sleep 1000", cluster_name="hpc"))
    await bob.wait_for(own["id"], ["running"])
    status, (body,), _ = await save(bob, own["id"], f"{host}/alice/planted:v1")
    assert status == 403
    assert body["missing"] == [{"uri": "image://hpc/alice/planted", "action": "write"}]
    assert await _tags(alice, save_server, "alice/planted") == 404
    await bob.kill(own["id"])


@pytest.mark.slurm
async def test_the_original_cli_saves_a_slurm_job(
    save_server: PlatformServer, alice: JobsClient, tmp_path: Path
) -> None:
    config_dir = tmp_path / "original"
    token = save_server.issue_token("alice")
    login = run_original(config_dir, "config", "login-with-token", token, str(save_server.api_url))
    assert login.returncode == 0, login.stderr
    running = await running_writer(alice)
    name = f"original-slurm-{uuid.uuid4().hex[:8]}"

    saved = run_original(config_dir, "job", "save", running["id"], f"image:{name}:v1")

    assert saved.returncode == 0, saved.stdout + saved.stderr
    assert f"image://hpc/alice/{name}:v1" in saved.stdout
    image = f"{registry_host(save_server)}/alice/{name}:v1"
    assert (await runs_on_docker(alice, image)).strip() == b"saved"
