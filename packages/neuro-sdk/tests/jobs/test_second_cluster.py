"""Every monitoring call on a job of the second cluster, through the URL `/config` advertises.

The first cluster's services live at the top level of `/api/v1`, the others under
`/clusters/<name>`: this proves the platform serves what it advertises there.
"""

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import neuro_sdk
from neuro_platform.testing.server import PlatformServer, running_jobs_platform
from neuro_sdk import JobStatus, StdStream, StdStreamError

BUSYBOX = "neuro-base/busybox:latest"
INSTANCE = "sdk-second-cluster-tests"
POLL_S = 0.2
MIB = 1024**2
PRESET = {"name": "small", "cpu": 0.5, "memory": 64 * MIB}
CONFIG: dict[str, Any] = {
    "node": {"cpu": 2.0, "memory": 1024 * MIB, "gpu": 0},
    "clusters": [
        {"name": "first", "presets": [PRESET]},
        {"name": "second", "presets": [{**PRESET, "name": "second-small"}]},
    ],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    directory = tmp_path_factory.mktemp("server")
    users = {"alice": "alice-password"}
    with running_jobs_platform(directory, INSTANCE, config=CONFIG, users=users) as server:
        yield server


@pytest.fixture
async def client(server: PlatformServer, tmp_path: Path) -> AsyncIterator[neuro_sdk.Client]:
    await neuro_sdk.login_with_token(server.issue_token("alice"), url=server.api_url, path=tmp_path)
    async with await neuro_sdk.get(path=tmp_path) as client:
        await client.config.switch_cluster("second")
        yield client


async def running_job(client: neuro_sdk.Client, command: str) -> str:
    job = await client.jobs.start(
        image=client.parse.remote_image(BUSYBOX), preset_name="second-small", command=command
    )
    assert job.cluster_name == "second"
    while (status := (await client.jobs.status(job.id)).status) is not JobStatus.RUNNING:
        assert not status.is_finished, f"{command} ended as {status}"
        await asyncio.sleep(POLL_S)
    return job.id


async def drain(stream: StdStream) -> tuple[bytes, int]:
    """Standard output until the final status, and the exit code it carries."""
    output = b""
    try:
        while (message := await stream.read_out()) is not None:
            output += message.data
    except StdStreamError as finished:
        return output, finished.exit_code
    raise AssertionError(f"the stream closed without an exit status after {output!r}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_config_advertises_a_cluster_prefixed_monitoring_url(
    client: neuro_sdk.Client,
) -> None:
    second = client.config.clusters["second"]
    assert second.monitoring_url.path.endswith("/clusters/second/jobs")


async def test_capacity_counts_the_second_clusters_presets(client: neuro_sdk.Client) -> None:
    capacity = await client.jobs.get_capacity(cluster_name="second")
    assert set(capacity) == {"second-small"}
    assert capacity["second-small"] >= 1


@pytest.mark.docker
async def test_logs_top_exec_port_forward_and_signal_on_the_second_cluster(
    client: neuro_sdk.Client,
) -> None:
    job_id = await running_job(
        client,
        "sh -c 'echo started; while true; do echo hi | nc -l -p 8000; done'",
    )

    async with client.jobs.monitor(job_id) as chunks:
        first = b""
        async for chunk in chunks:
            first += chunk
            if b"started" in first:
                break
    assert b"started" in first

    async with client.jobs.top(job_id) as telemetry:
        sample = await anext(aiter(telemetry))
    assert sample.cpu >= 0

    async with client.jobs.exec(job_id, "echo from-exec", stdout=True) as stream:
        output, exit_code = await drain(stream)
    assert output == b"from-exec\n"
    assert exit_code == 0

    port = free_port()
    async with client.jobs.port_forward(job_id, port, 8000):
        while True:  # refused until the job's listener is up
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                received = await reader.read()
                writer.close()
                if received:
                    break
            except OSError:
                pass
            await asyncio.sleep(POLL_S)
    assert received == b"hi\n"

    await client.jobs.send_signal(job_id)  # SIGKILL
    while True:
        status = (await client.jobs.status(job_id)).status
        if status.is_finished:
            break
        await asyncio.sleep(POLL_S)
    assert status is JobStatus.FAILED
