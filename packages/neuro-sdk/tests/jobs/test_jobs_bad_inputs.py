"""Bad job inputs end in errors that say what is wrong (our real server and dockerd)."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import neuro_sdk
from neuro_platform.testing.server import PlatformServer

BUSYBOX = "neuro-base/busybox:latest"


@pytest.fixture
async def client(
    jobs_platform_server: PlatformServer, tmp_path: Path
) -> AsyncIterator[neuro_sdk.Client]:
    token = jobs_platform_server.issue_token("alice")
    await neuro_sdk.login_with_token(token, url=jobs_platform_server.api_url, path=tmp_path)
    async with await neuro_sdk.get(path=tmp_path) as client:
        yield client


async def test_an_unknown_preset_is_named_in_the_error(client: neuro_sdk.Client) -> None:
    image = client.parse.remote_image(BUSYBOX)

    with pytest.raises(neuro_sdk.IllegalArgumentError, match="Preset 'no-such-preset'"):
        await client.jobs.start(image=image, preset_name="no-such-preset")


@pytest.mark.parametrize("name", ["Bad_Name", "-leading-dash", "x" * 100])
async def test_an_invalid_job_name_is_refused(client: neuro_sdk.Client, name: str) -> None:
    image = client.parse.remote_image(BUSYBOX)

    with pytest.raises(neuro_sdk.IllegalArgumentError, match="name"):
        await client.jobs.start(image=image, preset_name=next(iter(client.presets)), name=name)


async def test_too_little_memory_is_refused_with_the_minimum(client: neuro_sdk.Client) -> None:
    container = neuro_sdk.Container(
        image=client.parse.remote_image(BUSYBOX),
        resources=neuro_sdk.Resources(memory_mb=4, cpu=0.2),
    )

    with pytest.raises(neuro_sdk.IllegalArgumentError, match="at least 16 MiB"):
        await client.jobs.run(container)


async def test_a_malformed_image_name_never_reaches_the_server(client: neuro_sdk.Client) -> None:
    with pytest.raises(ValueError, match="Not A Valid"):
        client.parse.remote_image("Not A Valid Image!")


async def test_an_unknown_image_fails_the_job_saying_why(client: neuro_sdk.Client) -> None:
    job = await client.jobs.start(
        image=client.parse.remote_image("neuro-base/no-such-image:1"),
        preset_name=next(iter(client.presets)),
    )

    while not job.status.is_finished:
        await asyncio.sleep(0.2)
        job = await client.jobs.status(job.id)

    assert job.status is neuro_sdk.JobStatus.FAILED
    assert job.history.reason == "ErrImagePull"
    assert "no-such-image" in job.history.description
