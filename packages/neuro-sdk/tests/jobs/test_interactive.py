"""Jobs.exec, Jobs.attach (StdStream) and Jobs.port_forward on our real server and dockerd."""

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import neuro_sdk
from neuro_platform.orchestrator.testing import build_base_image
from neuro_platform.testing.server import PlatformServer
from neuro_sdk import JobStatus, StdStream, StdStreamError

BUSYBOX = "neuro-base/busybox:latest"
POLL_S = 0.2


@pytest.fixture
def server(jobs_platform_server: PlatformServer) -> PlatformServer:
    return jobs_platform_server


@pytest.fixture
async def client(server: PlatformServer, tmp_path: Path) -> AsyncIterator[neuro_sdk.Client]:
    await neuro_sdk.login_with_token(server.issue_token("alice"), url=server.api_url, path=tmp_path)
    async with await neuro_sdk.get(path=tmp_path) as client:
        yield client


async def running_job(client: neuro_sdk.Client, command: str, image: str = BUSYBOX) -> str:
    job = await client.jobs.start(
        image=client.parse.remote_image(image),
        preset_name=next(iter(client.presets)),
        command=command,
    )
    while True:
        status = (await client.jobs.status(job.id)).status
        if status is JobStatus.RUNNING:
            return job.id
        assert not status.is_finished, f"{command} ended as {status}"
        await asyncio.sleep(POLL_S)


async def drain(stream: StdStream) -> tuple[dict[int, bytes], int]:
    """Output per file number until the final status, and the exit code it carries."""
    out = {1: b"", 2: b""}
    try:
        while (message := await stream.read_out()) is not None:
            out[message.fileno] += message.data
    except StdStreamError as finished:
        return out, finished.exit_code
    raise AssertionError(f"the stream closed without an exit status after {out}")


async def test_exec_round_trips_stdin(client: neuro_sdk.Client) -> None:
    job_id = await running_job(client, "sleep 300")
    async with client.jobs.exec(job_id, "cat", stdin=True, stdout=True, stderr=True) as stream:
        await stream.write_in(b"one\ntwo\n")
        await stream.write_in(b"")  # EOF
        out, exit_code = await drain(stream)
    assert out[1] == b"one\ntwo\n"
    assert exit_code == 0
    await client.jobs.kill(job_id)


async def test_exec_separates_stderr_and_reports_failure(client: neuro_sdk.Client) -> None:
    job_id = await running_job(client, "sleep 300")
    cmd = "sh -c 'echo out; echo err >&2; exit 9'"
    async with client.jobs.exec(job_id, cmd, stdout=True, stderr=True) as stream:
        out, exit_code = await drain(stream)
    assert out == {1: b"out\n", 2: b"err\n"}
    assert exit_code == 9
    await client.jobs.kill(job_id)


async def test_exec_tty_sees_the_size_it_is_given(client: neuro_sdk.Client) -> None:
    job_id = await running_job(client, "sleep 300")
    async with client.jobs.exec(job_id, "sh", tty=True, stdin=True, stdout=True) as stream:
        await stream.resize(27, 93)
        await stream.write_in(b"stty size; exit 2\n")
        out, exit_code = await drain(stream)
    assert b"27 93" in out[1]
    assert exit_code == 2
    await client.jobs.kill(job_id)


async def test_attach_reads_a_running_jobs_output(client: neuro_sdk.Client) -> None:
    job_id = await running_job(client, "sh -c 'sleep 1; echo hello from the job'")
    async with client.jobs.attach(job_id, stdout=True, stderr=True) as stream:
        out, exit_code = await drain(stream)
    assert out[1] == b"hello from the job\n"
    assert exit_code == 0


async def test_exec_in_an_unknown_job_is_not_found(client: neuro_sdk.Client) -> None:
    with pytest.raises(neuro_sdk.ResourceNotFound):
        async with client.jobs.exec(
            "job-00000000-0000-0000-0000-000000000000", "true", stdout=True
        ):
            pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_port_forward_serves_parallel_http_requests(client: neuro_sdk.Client) -> None:
    debian = build_base_image("debian")
    job_id = await running_job(
        client,
        "bash -c 'mkdir -p /srv && head -c 2500000 /dev/urandom > /srv/big"
        " && cd /srv && exec python3 -m http.server 8000'",
        image=debian,
    )
    port = free_port()
    async with client.jobs.port_forward(job_id, port, 8000), aiohttp.ClientSession() as http:
        url = f"http://localhost:{port}/big"

        async def fetch() -> bytes:
            async with http.get(url) as response:
                assert response.status == 200
                return await response.read()

        while True:  # refused (the connection closes) until the job's server listens
            try:
                first = await fetch()
                break
            except aiohttp.ClientError:
                await asyncio.sleep(POLL_S)
        bodies = await asyncio.gather(*(fetch() for _ in range(10)))
    assert len(first) == 2_500_000
    assert all(body == first for body in bodies)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    await client.jobs.kill(job_id)


async def test_port_forward_to_a_closed_port_closes_the_local_connection(
    client: neuro_sdk.Client,
) -> None:
    job_id = await running_job(client, "sleep 300")
    port = free_port()
    async with client.jobs.port_forward(job_id, port, 9):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello?")
        assert await reader.read() == b""
        writer.close()
        await writer.wait_closed()
    await client.jobs.kill(job_id)
