"""exec and attach on Slurm: a step in the job's allocation runs podman on its node."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from neuro_platform.orchestrator import (
    ContainerNotFoundError,
    ContainerNotRunningError,
    ContainerPhase,
    ContainerSpec,
    InteractiveSession,
    SlurmOrchestrator,
    StreamOptions,
)

pytestmark = pytest.mark.slurm


async def running_job(orchestrator: SlurmOrchestrator, spec: ContainerSpec) -> None:
    await orchestrator.start(spec)
    while (state := await orchestrator.state(spec.job_id)).phase is not ContainerPhase.RUNNING:
        assert not state.is_finished, state
        await asyncio.sleep(0.1)


async def drain(session: InteractiveSession) -> dict[int, bytes]:
    output = {1: b"", 2: b""}
    while (chunk := await session.read()) is not None:
        output[chunk.fileno] += chunk.data
    return output


async def test_exec_round_trips_stdin_keeps_streams_apart_and_reports_exit_code(
    orchestrator: SlurmOrchestrator, make_spec: Callable[..., ContainerSpec]
) -> None:
    spec = make_spec("sleep", "600")
    await running_job(orchestrator, spec)
    command = ["sh", "-c", "read x; echo got $x; hostname; echo oops >&2; exit 4"]
    async with orchestrator.exec(spec.job_id, command, StreamOptions(stdin=True)) as session:
        await session.write(b"hello\n")
        await session.close_stdin()
        output = await drain(session)
        code = await session.exit_code()
    assert output[1].startswith(b"got hello\nnode")
    assert output[2] == b"oops\n"
    assert code == 4


async def test_exec_of_a_missing_program_reports_its_exit_code(
    orchestrator: SlurmOrchestrator, make_spec: Callable[..., ContainerSpec]
) -> None:
    spec = make_spec("sleep", "600")
    await running_job(orchestrator, spec)
    async with orchestrator.exec(spec.job_id, ["/no/such"], StreamOptions()) as session:
        await drain(session)
        code = await session.exit_code()
    assert code in (126, 127)


async def test_attach_streams_the_jobs_output(
    orchestrator: SlurmOrchestrator, make_spec: Callable[..., ContainerSpec]
) -> None:
    spec = make_spec("sh", "-c", "sleep 1; for i in 1 2 3; do echo tick $i; sleep 0.3; done")
    await running_job(orchestrator, spec)
    async with orchestrator.attach(spec.job_id, StreamOptions()) as session:
        output = await drain(session)
    assert b"tick 3\n" in output[1]


async def test_exec_of_unknown_or_finished_jobs_is_refused(
    orchestrator: SlurmOrchestrator, make_spec: Callable[..., ContainerSpec]
) -> None:
    with pytest.raises(ContainerNotFoundError):
        async with orchestrator.exec("job-unknown", ["true"], StreamOptions()):
            pass
    spec = make_spec("true")
    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)
    with pytest.raises(ContainerNotRunningError):
        async with orchestrator.exec(spec.job_id, ["true"], StreamOptions()):
            pass
