"""Stopping jobs and sending them signals (`neuro kill`, life span, preemption)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from neuro_platform.orchestrator import (
    ContainerNotFoundError,
    ContainerNotRunningError,
    ContainerPhase,
    ContainerSpec,
    DockerOrchestrator,
    JobReason,
)
from neuro_platform.orchestrator.testing import collect_logs

SpecFactory = Callable[..., ContainerSpec]


async def _wait_for_output(orchestrator: DockerOrchestrator, job_id: str, marker: bytes) -> None:
    seen = b""
    async for chunk in orchestrator.logs(job_id, follow=True):
        seen += chunk
        if marker in seen:
            return
    raise AssertionError(f"the job ended without printing {marker!r}: {seen!r}")


async def test_stop_terminates_a_running_job_with_sigterm(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sleep", "300")
    await orchestrator.start(spec)

    await orchestrator.stop(spec.job_id, timeout_s=30)
    final = await orchestrator.state(spec.job_id)

    assert final.phase is ContainerPhase.EXITED
    # 128 + SIGTERM: the job got the polite signal, not the SIGKILL of the deadline.
    assert (final.exit_code, final.reason) == (143, JobReason.ERROR)


async def test_stop_sends_sigterm_again_to_a_job_that_missed_the_first_one(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    """A SIGTERM that reaches a container before its init handles signals is lost. This job
    loses the first one on purpose (it traps it once): the second still comes well before
    the deadline's SIGKILL."""
    spec = make_spec(
        "sh", "-c", 'trap "trap - TERM; echo missed" TERM; echo ready; while :; do sleep 0.1; done'
    )
    await orchestrator.start(spec)
    await _wait_for_output(orchestrator, spec.job_id, b"ready")

    await orchestrator.stop(spec.job_id, timeout_s=30)
    final = await orchestrator.state(spec.job_id)

    assert (final.exit_code, final.reason) == (143, JobReason.ERROR)
    assert await collect_logs(orchestrator, spec.job_id) == b"ready\nmissed\n"


async def test_stop_of_a_finished_job_changes_nothing(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("true")
    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)

    await orchestrator.stop(spec.job_id)

    assert (await orchestrator.state(spec.job_id)).reason is JobReason.COMPLETED


async def test_kill_delivers_the_signal_the_job_handles(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec(
        "sh", "-c", "trap 'echo got USR1; exit 7' USR1; echo ready; while :; do sleep 0.1; done"
    )
    await orchestrator.start(spec)
    await _wait_for_output(orchestrator, spec.job_id, b"ready\n")

    await orchestrator.kill(spec.job_id, signal="USR1")
    final = await orchestrator.wait(spec.job_id)

    assert final.exit_code == 7
    assert await collect_logs(orchestrator, spec.job_id) == b"ready\ngot USR1\n"


async def test_kill_defaults_to_sigkill(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sh", "-c", "trap '' TERM INT; sleep 300")
    await orchestrator.start(spec)

    await orchestrator.kill(spec.job_id)
    final = await orchestrator.wait(spec.job_id)

    assert final.exit_code == 137
    assert not final.oom_killed


async def test_kill_of_a_finished_or_unknown_job_is_refused(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("true")
    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)

    with pytest.raises(ContainerNotRunningError):
        await orchestrator.kill(spec.job_id, signal="SIGTERM")
    with pytest.raises(ContainerNotFoundError):
        await orchestrator.kill("job-that-never-ran")
    with pytest.raises(ValueError, match="Unknown signal"):
        await orchestrator.kill(spec.job_id, signal="SIGNOPE")
