"""The Jobs API against our real server and the real dockerd (image neuro-base/busybox)."""

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import neuro_sdk
from neuro_platform.testing.server import PlatformServer
from neuro_sdk import JobDescription, JobStatus

BUSYBOX = "neuro-base/busybox:latest"
POLL_S = 0.2


async def _client(server: PlatformServer, config_dir: Path, user: str) -> neuro_sdk.Client:
    await neuro_sdk.login_with_token(server.issue_token(user), url=server.api_url, path=config_dir)
    return await neuro_sdk.get(path=config_dir)


@pytest.fixture
async def client(
    jobs_platform_server: PlatformServer, tmp_path: Path
) -> AsyncIterator[neuro_sdk.Client]:
    client = await _client(jobs_platform_server, tmp_path / "alice", "alice")
    async with client:
        yield client


@pytest.fixture
async def bob(
    jobs_platform_server: PlatformServer, tmp_path: Path
) -> AsyncIterator[neuro_sdk.Client]:
    client = await _client(jobs_platform_server, tmp_path / "bob", "bob")
    async with client:
        yield client


async def wait_for(
    client: neuro_sdk.Client, job_id: str, done: Callable[[JobDescription], bool]
) -> JobDescription:
    # No deadline of our own: the per-test timeout ends a job that never gets there.
    while True:
        job = await client.jobs.status(job_id)
        if done(job):
            return job
        await asyncio.sleep(POLL_S)


async def start(client: neuro_sdk.Client, command: str, **kwargs: object) -> JobDescription:
    return await client.jobs.start(
        image=client.parse.remote_image(BUSYBOX),
        preset_name=next(iter(client.presets)),
        command=command,
        **kwargs,  # type: ignore[arg-type]
    )


async def read_logs(client: neuro_sdk.Client, job_id: str, **kwargs: object) -> bytes:
    async with client.jobs.monitor(job_id, separator="", **kwargs) as chunks:  # type: ignore[arg-type]
        return b"".join([chunk async for chunk in chunks])


async def test_a_job_runs_to_success_and_its_output_is_kept(client: neuro_sdk.Client) -> None:
    submitted = await start(client, "sh -c 'echo hello; echo world'", name="greeter")

    assert submitted.status is JobStatus.PENDING
    assert submitted.name == "greeter"
    assert submitted.owner == "alice"
    job = await wait_for(client, submitted.id, lambda j: j.status.is_finished)
    assert job.status is JobStatus.SUCCEEDED
    assert job.history.exit_code == 0
    assert job.history.started_at is not None
    assert job.history.finished_at is not None
    assert [item.status for item in job.history.transitions][-1] is JobStatus.SUCCEEDED
    assert job.container.image == client.parse.remote_image(BUSYBOX)
    assert await read_logs(client, job.id) == b"hello\nworld\n"


async def test_a_failing_job_reports_its_exit_code(client: neuro_sdk.Client) -> None:
    submitted = await start(client, "sh -c 'echo oops >&2; exit 3'")

    job = await wait_for(client, submitted.id, lambda j: j.status.is_finished)

    assert job.status is JobStatus.FAILED
    assert job.history.exit_code == 3
    assert await read_logs(client, job.id) == b"oops\n"


async def test_logs_with_timestamps_and_since(client: neuro_sdk.Client) -> None:
    submitted = await start(client, "sh -c 'echo first; sleep 2; echo second'")
    job = await wait_for(client, submitted.id, lambda j: j.status.is_finished)

    stamped = (await read_logs(client, job.id, timestamps=True)).decode().splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["first", "second"]
    second_at = datetime.fromisoformat(stamped[1].split(" ", 1)[0])
    # A naive datetime is local time (the documented rule).
    since = second_at.astimezone().replace(tzinfo=None)
    assert await read_logs(client, job.id, since=since) == b"second\n"


async def test_logs_follow_a_running_job(client: neuro_sdk.Client) -> None:
    submitted = await start(client, "sh -c 'for i in 1 2 3; do echo line $i; sleep 0.5; done'")
    await wait_for(client, submitted.id, lambda j: not j.status.is_pending)

    assert await read_logs(client, submitted.id) == b"line 1\nline 2\nline 3\n"


async def test_list_filters(client: neuro_sdk.Client, bob: neuro_sdk.Client) -> None:
    before = datetime.now()  # naive: local time, as users pass it
    first = await start(client, "true", name="list-a", tags=["suite", "one"])
    second = await start(client, "sleep 600", name="list-b", tags=["suite"])
    bobs = await start(bob, "true", tags=["suite"])
    await wait_for(client, first.id, lambda j: j.status.is_finished)
    await wait_for(client, second.id, lambda j: j.status.is_running)

    async def ids(**kwargs: object) -> list[str]:
        async with client.jobs.list(since=before, **kwargs) as jobs:  # type: ignore[arg-type]
            return [job.id async for job in jobs]

    assert await ids(tags=["suite"]) == [first.id, second.id]
    assert await ids(tags=["suite", "one"]) == [first.id]
    assert await ids(name="list-b") == [second.id]
    assert await ids(statuses=[JobStatus.RUNNING]) == [second.id]
    assert await ids(statuses=[JobStatus.SUCCEEDED], tags=["suite"]) == [first.id]
    assert await ids(reverse=True, tags=["suite"]) == [second.id, first.id]
    assert await ids(reverse=True, limit=1, tags=["suite"]) == [second.id]
    assert await ids(owners=["alice"], tags=["suite"]) == [first.id, second.id]
    assert bobs.id not in await ids()
    assert await ids(until=before - timedelta(days=1)) == []
    await client.jobs.kill(second.id)


async def test_kill_cancels_a_running_job(client: neuro_sdk.Client) -> None:
    submitted = await start(client, "sleep 600")
    await wait_for(client, submitted.id, lambda j: j.status.is_running)

    await client.jobs.kill(submitted.id)

    job = await wait_for(client, submitted.id, lambda j: j.status.is_finished)
    assert job.status is JobStatus.CANCELLED
    assert job.history.reason == "UserRequested"


async def test_send_signal_kills_the_container(client: neuro_sdk.Client) -> None:
    submitted = await start(client, "sleep 600")
    await wait_for(client, submitted.id, lambda j: j.status.is_running)

    await client.jobs.send_signal(submitted.id)

    job = await wait_for(client, submitted.id, lambda j: j.status.is_finished)
    assert job.status is JobStatus.FAILED
    assert job.history.exit_code == 137


async def test_top_reports_usage_while_running(client: neuro_sdk.Client) -> None:
    submitted = await start(client, "sh -c 'while true; do :; done'")
    await wait_for(client, submitted.id, lambda j: j.status.is_running)

    async with client.jobs.top(submitted.id) as samples:
        sample = await anext(samples)
    await client.jobs.kill(submitted.id)

    assert sample.cpu > 0
    assert sample.memory > 0  # a shell uses some kilobytes
    assert sample.timestamp > datetime.now().timestamp() - 3600


async def test_top_of_a_finished_job_is_an_error(client: neuro_sdk.Client) -> None:
    submitted = await start(client, "true")
    await wait_for(client, submitted.id, lambda j: j.status.is_finished)

    async def read_all() -> list[neuro_sdk.JobTelemetry]:
        async with client.jobs.top(submitted.id) as samples:
            return [sample async for sample in samples]

    with pytest.raises(ValueError, match="not running"):
        await read_all()


async def test_capacity_per_preset(client: neuro_sdk.Client) -> None:
    capacity = await client.jobs.get_capacity()

    assert set(capacity) == set(client.presets)
    assert all(count >= 0 for count in capacity.values())


async def test_bump_life_span(client: neuro_sdk.Client) -> None:
    submitted = await start(client, "sleep 600", life_span=3600)
    assert submitted.life_span == 3600

    await client.jobs.bump_life_span(submitted.id, 1800)

    assert (await client.jobs.status(submitted.id)).life_span == 5400
    await client.jobs.kill(submitted.id)


async def test_run_with_explicit_resources(client: neuro_sdk.Client) -> None:
    container = neuro_sdk.Container(
        image=client.parse.remote_image(BUSYBOX),
        resources=neuro_sdk.Resources(memory_mb=64, cpu=0.2),
        command="echo from-run",
        env={"GREETING": "hi"},
    )

    submitted = await client.jobs.run(container, description="old shape")

    assert submitted.container.resources.memory_mb == 64
    assert submitted.container.resources.cpu == 0.2
    assert submitted.container.env == {"GREETING": "hi"}
    assert submitted.description == "old shape"
    job = await wait_for(client, submitted.id, lambda j: j.status.is_finished)
    assert job.status is JobStatus.SUCCEEDED
    assert await read_logs(client, job.id) == b"from-run\n"


async def test_status_by_name(client: neuro_sdk.Client) -> None:
    submitted = await start(client, "true", name="by-name")

    assert (await client.jobs.status("by-name")).id == submitted.id


async def test_user_errors(client: neuro_sdk.Client, bob: neuro_sdk.Client) -> None:
    image = client.parse.remote_image(BUSYBOX)
    with pytest.raises(neuro_sdk.ResourceNotFound):
        await client.jobs.status("job-00000000-0000-4000-8000-000000000000")
    with pytest.raises(neuro_sdk.IllegalArgumentError):
        await client.jobs.start(image=image, preset_name="no-such-preset")
    with pytest.raises(neuro_sdk.IllegalArgumentError):
        await client.jobs.start(image=image, preset_name=next(iter(client.presets)), name="Bad!")
    private = await start(client, "sleep 600")
    # Bob may not see, let alone kill, alice's job.
    with pytest.raises((neuro_sdk.AuthorizationError, neuro_sdk.ResourceNotFound)):
        await bob.jobs.kill(private.id)
    await client.jobs.kill(private.id)


async def test_an_image_that_does_not_exist_fails_the_job(client: neuro_sdk.Client) -> None:
    job = await client.jobs.start(
        image=client.parse.remote_image("neuro-base/no-such-image:1"),
        preset_name=next(iter(client.presets)),
    )

    failed = await wait_for(client, job.id, lambda j: j.status.is_finished)

    assert failed.status is JobStatus.FAILED
    assert failed.history.reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName")
