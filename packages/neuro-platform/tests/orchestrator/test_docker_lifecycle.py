"""Running jobs to completion: output, exit codes, limits, and cleanup."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import aiodocker
import pytest

from neuro_platform.orchestrator import (
    BindMount,
    ContainerCannotRunError,
    ContainerNotFoundError,
    ContainerPhase,
    ContainerSpec,
    DockerOrchestrator,
    JobReason,
)
from neuro_platform.orchestrator.docker_config import create_config
from neuro_platform.orchestrator.naming import container_name
from neuro_platform.orchestrator.testing import collect_logs
from neuro_platform.settings import DEFAULT_PIDS_LIMIT

SpecFactory = Callable[..., ContainerSpec]
MIB = 1024**2


async def test_echo_job_completes_with_its_output_in_logs(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sh", "-c", "echo hello from the job")

    started = await orchestrator.start(spec)
    final = await orchestrator.wait(spec.job_id)

    assert started.job_id == spec.job_id
    assert final.phase is ContainerPhase.EXITED
    assert (final.exit_code, final.reason, final.oom_killed) == (0, JobReason.COMPLETED, False)
    assert final.started_at is not None
    assert final.finished_at is not None
    assert await collect_logs(orchestrator, spec.job_id) == b"hello from the job\n"


async def test_non_zero_exit_code_is_reported_as_error(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sh", "-c", "echo failing >&2; exit 3")

    await orchestrator.start(spec)
    final = await orchestrator.wait(spec.job_id)

    assert (final.exit_code, final.reason) == (3, JobReason.ERROR)
    assert await collect_logs(orchestrator, spec.job_id) == b"failing\n"


async def test_job_over_its_memory_limit_is_oom_killed(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    # awk doubles a string to 256 MiB, sixteen times the job's memory, with no swap to escape
    # to (unlimited, it would end with 0). Its pages are touched in user space, so the
    # cgroup's OOM killer must act: `dd bs=64M` filled its buffer inside read(2), where a
    # failed charge can end as EFAULT and a graceful exit 1, which happened under load.
    spec = make_spec("awk", 'BEGIN { s = "x"; for (i = 0; i < 28; i++) s = s s }', memory=16 * MIB)

    await orchestrator.start(spec)
    final = await orchestrator.wait(spec.job_id)

    assert final.oom_killed
    assert final.reason is JobReason.OOM_KILLED
    assert final.exit_code == 137


async def test_env_working_dir_entrypoint_and_command_reach_the_process(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec(
        'echo "$GREETING from $(pwd) as $0"',
        "named-arg",
        entrypoint=("sh", "-c"),
        env={"GREETING": "hi there"},
        working_dir="/tmp/work",
    )

    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)

    assert (
        await collect_logs(orchestrator, spec.job_id) == b"hi there from /tmp/work as named-arg\n"
    )


async def test_tty_job_output_is_read_raw(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sh", "-c", "test -t 1 && echo on a terminal", tty=True)

    await orchestrator.start(spec)
    final = await orchestrator.wait(spec.job_id)

    assert final.exit_code == 0
    assert await collect_logs(orchestrator, spec.job_id) == b"on a terminal\r\n"


async def test_bind_mount_is_visible_and_read_only(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory, tmp_path: Path
) -> None:
    (tmp_path / "input.txt").write_text("from storage\n")
    spec = make_spec(
        "sh",
        "-c",
        "cat /data/input.txt; touch /data/new 2>/dev/null && echo writable || echo read-only",
        bind_mounts=(BindMount(tmp_path, PurePosixPath("/data"), read_only=True),),
    )

    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)

    assert await collect_logs(orchestrator, spec.job_id) == b"from storage\nread-only\n"
    assert not (tmp_path / "new").exists()


async def test_container_the_engine_refuses_is_reported_as_cannot_run(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory, tmp_path: Path
) -> None:
    missing = tmp_path / "missing"
    spec = make_spec("true", bind_mounts=(BindMount(missing, PurePosixPath("/data")),))

    with pytest.raises(ContainerCannotRunError) as raised:
        await orchestrator.start(spec)

    assert raised.value.reason is JobReason.CONTAINER_CANNOT_RUN
    assert str(missing) in raised.value.message


async def test_start_is_idempotent_per_job_id(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sleep", "300")

    first = await orchestrator.start(spec)
    second = await orchestrator.start(spec)

    assert first.phase is second.phase is ContainerPhase.RUNNING
    assert first.started_at == second.started_at
    assert [state.job_id for state in await orchestrator.list_managed()] == [spec.job_id]


async def test_start_cut_short_after_create_is_completed_by_the_next_start(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory, instance: str
) -> None:
    # A platform that stopped between creating and starting the container: the next start
    # (after the restart) must start that container, not fail on the name it holds.
    spec = make_spec("sleep", "300")
    async with aiodocker.Docker() as docker:
        await docker.containers.create(
            create_config(spec, instance, pids_limit=DEFAULT_PIDS_LIMIT),
            name=container_name(instance, spec.job_id),
        )

    state = await orchestrator.start(spec)

    assert state.phase is ContainerPhase.RUNNING
    assert (await orchestrator.state(spec.job_id)).phase is ContainerPhase.RUNNING


async def test_remove_deletes_the_container_and_is_idempotent(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sleep", "300")
    await orchestrator.start(spec)

    await orchestrator.remove(spec.job_id)
    await orchestrator.remove(spec.job_id)

    with pytest.raises(ContainerNotFoundError):
        await orchestrator.state(spec.job_id)
    assert await orchestrator.list_managed() == []


async def test_job_ids_that_would_escape_the_engine_api_are_refused(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    with pytest.raises(ValueError, match="Invalid job id"):
        await orchestrator.start(make_spec("true", job_id="../images/x"))
    with pytest.raises(ValueError, match="Invalid job id"):
        await orchestrator.state("job/../../info")


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has GPUs")
async def test_gpu_job_on_a_machine_without_gpus_cannot_run(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("true", gpu=1, gpu_model="nvidia-tesla-k80")

    state = await orchestrator.start(spec)

    assert state.phase is ContainerPhase.EXITED
    assert state.reason is JobReason.CONTAINER_CANNOT_RUN
    assert state.message is not None
    assert "gpu" in state.message
