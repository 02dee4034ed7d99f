"""Jobs.run and Jobs.start take the original SDK's keywords (issue #16), against our real
server and dockerd: ``restart_policy`` and ``org_name`` on ``run``, ``org_name=None`` meaning
"no org", and a ``life_span`` under a minute rounded, not refused."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import neuro_sdk
from neuro_platform.testing.server import PlatformServer
from neuro_sdk import Container, JobRestartPolicy, Resources

BUSYBOX = "neuro-base/busybox:latest"


@pytest.fixture
async def client(
    jobs_platform_server: PlatformServer, tmp_path: Path
) -> AsyncIterator[neuro_sdk.Client]:
    token = jobs_platform_server.issue_token("alice")
    await neuro_sdk.login_with_token(token, url=jobs_platform_server.api_url, path=tmp_path)
    async with await neuro_sdk.get(path=tmp_path) as client:
        yield client


def _container(client: neuro_sdk.Client) -> Container:
    return Container(
        image=client.parse.remote_image(BUSYBOX),
        resources=Resources(memory_mb=64, cpu=0.1),
        command="sleep 600",
    )


async def test_run_takes_restart_policy_org_name_and_a_short_life_span(
    client: neuro_sdk.Client,
) -> None:
    job = await client.jobs.run(
        _container(client),
        restart_policy=JobRestartPolicy.ON_FAILURE,
        org_name=None,
        life_span=30,
    )
    try:
        stored = await client.jobs.status(job.id)
        assert stored.restart_policy is JobRestartPolicy.ON_FAILURE
        assert stored.org_name is None
        # Under a minute: one minute, where the server would refuse 0 minutes.
        assert stored.life_span == 60
    finally:
        await client.jobs.kill(job.id)


async def test_run_sends_org_name(client: neuro_sdk.Client) -> None:
    # Hostile: an org the cluster does not have is the server's 400, so the keyword
    # really reaches the wire (a dropped keyword would start the job in no org).
    with pytest.raises(neuro_sdk.IllegalArgumentError, match="no-such-org"):
        await client.jobs.run(_container(client), org_name="no-such-org")


@pytest.mark.parametrize(("life_span", "minutes"), [(0.5, 1), (59.9, 1), (60, 1), (119, 1)])
async def test_start_rounds_life_span_down_to_whole_minutes(
    client: neuro_sdk.Client, life_span: float, minutes: int
) -> None:
    job = await client.jobs.start(
        image=client.parse.remote_image(BUSYBOX),
        preset_name=next(iter(client.presets)),
        command="sleep 600",
        life_span=life_span,
    )
    try:
        assert (await client.jobs.status(job.id)).life_span == minutes * 60
    finally:
        await client.jobs.kill(job.id)


async def test_start_refuses_a_life_span_of_nothing(client: neuro_sdk.Client) -> None:
    # Zero or less is no run-time limit at all: the server refuses it, as it refuses what
    # the original sends for it.
    with pytest.raises(neuro_sdk.IllegalArgumentError):
        await client.jobs.start(
            image=client.parse.remote_image(BUSYBOX),
            preset_name=next(iter(client.presets)),
            life_span=0,
        )


async def test_start_sends_org_name_and_none_is_no_org(
    client: neuro_sdk.Client,
) -> None:
    image = client.parse.remote_image(BUSYBOX)
    preset = next(iter(client.presets))
    with pytest.raises(neuro_sdk.IllegalArgumentError, match="no-such-org"):
        await client.jobs.start(image=image, preset_name=preset, org_name="no-such-org")
    job = await client.jobs.start(image=image, preset_name=preset, command="true", org_name=None)
    assert job.org_name is None
