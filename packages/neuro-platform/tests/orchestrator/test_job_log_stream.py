"""A job's log stream (monitoring.logs) over the real engine, archiver and job repository, at
the moments the scheduler cannot be paused at through the API: between two runs of a
restarting job, when the last run is archived and the next container does not exist or has
not started. The tests take the scheduler's steps themselves (start, archive, remove)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiodocker.containers import DockerContainer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neuro_platform.jobs.entities import Container, Job, JobSpec, JobStatus, Resources, StatusItem
from neuro_platform.jobs.log_archive import LogArchive
from neuro_platform.jobs.log_archiver import LogArchivers
from neuro_platform.jobs.repository import JobRepository
from neuro_platform.monitoring.logs import LogOptions, job_logs
from neuro_platform.orchestrator import (
    ContainerPhase,
    ContainerSpec,
    DockerOrchestrator,
)

MIB = 1024**2
SEPARATOR = "--live--"


async def test_a_stream_opened_between_two_runs_waits_for_the_next_one(
    orchestrator: DockerOrchestrator,
    make_spec: Callable[..., ContainerSpec],
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    first_run = make_spec("sh", "-c", "echo first")
    repository, archivers, stream = await _stream_after_first_run(
        orchestrator, first_run, sessions, tmp_path
    )
    assert await anext(stream) == b"first\n"
    rest = asyncio.create_task(_read_all(stream))
    await asyncio.sleep(0.5)
    assert not rest.done(), "the stream ended before the job's next run"

    await orchestrator.start(replace(first_run, command=("sh", "-c", "echo second")))
    archivers.ensure(first_run.job_id)
    await repository.update(first_run.job_id, lambda j: replace(j, restarts=j.restarts + 1))
    async with asyncio.timeout(30):
        assert await rest == f"{SEPARATOR}\nsecond\n".encode()


async def test_a_stream_waits_while_the_next_container_is_created_but_not_started(
    orchestrator: DockerOrchestrator,
    make_spec: Callable[..., ContainerSpec],
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The engine ends a followed log of a never-started container at once: a stream that
    # followed it then would end without the run it waited for.
    first_run = make_spec("sh", "-c", "echo first")
    repository, archivers, stream = await _stream_after_first_run(
        orchestrator, first_run, sessions, tmp_path
    )
    assert await anext(stream) == b"first\n"
    rest = asyncio.create_task(_read_all(stream))

    start_container = DockerContainer.start
    created = asyncio.Event()

    async def start_late(self: DockerContainer, **config: Any) -> Any:
        created.set()
        await asyncio.sleep(1)
        return await start_container(self, **config)

    monkeypatch.setattr(DockerContainer, "start", start_late)
    second_run = asyncio.create_task(
        orchestrator.start(replace(first_run, command=("sh", "-c", "echo second")))
    )
    await created.wait()
    assert (await orchestrator.state(first_run.job_id)).phase is ContainerPhase.PENDING
    archivers.ensure(first_run.job_id)  # archiving a run that has not started yet
    await repository.update(first_run.job_id, lambda j: replace(j, restarts=j.restarts + 1))
    async with asyncio.timeout(30):
        assert await rest == f"{SEPARATOR}\nsecond\n".encode()
    await second_run


async def test_once_begin_returns_the_archive_has_the_run_a_stream_of_the_running_job_follows(
    orchestrator: DockerOrchestrator,
    make_spec: Callable[..., ContainerSpec],
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    # The scheduler marks a job RUNNING once `begin` returns. Before it awaited the copier, a
    # stream that saw the job running could find no run yet: it then waited for a change of
    # the job, which does not come while it runs (0.5 s of the first line's latency).
    spec = make_spec("sh", "-c", "echo ready; sleep 60")
    job, repository, archive, archivers = await _archiving(orchestrator, spec, sessions, tmp_path)
    await orchestrator.start(spec)

    await archivers.begin(spec.job_id)

    assert archive.live_run(spec.job_id) is not None
    stream = job_logs(job, LogOptions(), jobs=repository, archive=archive)
    async with asyncio.timeout(30):
        assert await anext(stream) == b"ready\n"
    await archivers.close()


async def test_begin_returns_without_a_run_for_a_job_that_has_no_container(
    orchestrator: DockerOrchestrator, make_spec: Callable[..., ContainerSpec], tmp_path: Path
) -> None:
    # A container gone before its archiving began (removed at once, say) must not hold the
    # scheduler's start: `begin` returns, and there is no run to follow.
    spec = make_spec("true")
    archive = LogArchive(tmp_path)
    archivers = LogArchivers(archive, orchestrator, cap_bytes=MIB)
    async with asyncio.timeout(30):
        await archivers.begin(spec.job_id)
    assert archive.latest_run(spec.job_id) is None
    await archivers.close()


async def test_an_exited_container_archived_whole_is_not_archived_again_as_a_new_run(
    orchestrator: DockerOrchestrator,
    make_spec: Callable[..., ContainerSpec],
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    # A scheduler pass that sees the job running before the container's exit is noticed
    # asks its archiving to go on (`ensure`). A second copier of the exited container made
    # a run of its own: a stream opened at submission showed a separator after the output.
    spec = make_spec("sh", "-c", "echo one; echo two")
    job, repository, archive, archivers = await _archiving(orchestrator, spec, sessions, tmp_path)
    await orchestrator.start(spec)
    archivers.ensure(spec.job_id)
    await orchestrator.wait(spec.job_id)
    async with asyncio.timeout(30):
        while (run := archive.latest_run(spec.job_id)) is None or not run.done:
            await archive.wait_for_change(spec.job_id, 1.0)
    stream = job_logs(job, LogOptions(separator=SEPARATOR), jobs=repository, archive=archive)
    assert await anext(stream) == b"one\ntwo\n"

    await archivers.begin(spec.job_id)  # the pass's `ensure`, and a wait for what it began

    assert archive.latest_run(spec.job_id) is run
    ended = StatusItem(JobStatus.SUCCEEDED, datetime.now(UTC))
    await repository.update(spec.job_id, lambda j: j.with_status(ended))
    async with asyncio.timeout(30):
        assert await _read_all(stream) == b""
    await archivers.close()


async def _archiving(
    orchestrator: DockerOrchestrator,
    spec: ContainerSpec,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> tuple[Job, JobRepository, LogArchive, LogArchivers]:
    """The running job of `spec` in a repository, and its archive and archivers."""
    job = _running_job(spec)
    repository = JobRepository(sessions)
    await repository.insert(job)
    archive = LogArchive(tmp_path)
    return job, repository, archive, LogArchivers(archive, orchestrator, cap_bytes=MIB)


def _running_job(spec: ContainerSpec) -> Job:
    now = datetime.now(UTC)
    return Job(
        id=spec.job_id,
        owner="alice",
        cluster_name="default",
        org_name=None,
        spec=JobSpec(Container(image=spec.image, resources=Resources(cpu=0.5, memory=64 * MIB))),
        created_at=now,
        statuses=(StatusItem(JobStatus.PENDING, now), StatusItem(JobStatus.RUNNING, now)),
    )


async def _stream_after_first_run(
    orchestrator: DockerOrchestrator,
    first_run: ContainerSpec,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> tuple[JobRepository, LogArchivers, AsyncIterator[bytes]]:
    """A running job whose first run has exited, been archived and removed, and its log stream."""
    job, repository, archive, archivers = await _archiving(
        orchestrator, first_run, sessions, tmp_path
    )
    # What the scheduler does when a run of a restarting job exits: archive it, remove it.
    await orchestrator.start(first_run)
    archivers.ensure(first_run.job_id)
    await orchestrator.wait(first_run.job_id)
    await archivers.finish(first_run.job_id)
    await orchestrator.remove(first_run.job_id)
    stream = job_logs(job, LogOptions(separator=SEPARATOR), jobs=repository, archive=archive)
    return repository, archivers, stream


async def _read_all(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])
