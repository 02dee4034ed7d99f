"""Exec, attach and port-forward (docs/protocol.md §4, 4.1, 4.2) on a real server and real
containers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from neuro_platform.orchestrator.testing import build_base_image

from .client import JobsClient
from .conftest import busybox_job

PROTOCOL = "v2.channels.neu.ro"


@pytest.fixture(scope="session")
def debian_image() -> str:
    return build_base_image("debian")


@asynccontextmanager
async def channels(
    client: JobsClient, job_id: str, kind: str, **query: str
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    url = client.jobs_url / job_id / kind
    async with client.session.ws_connect(url, params=query, protocols=(PROTOCOL,)) as ws:
        assert ws.protocol == PROTOCOL
        yield ws


async def collect(ws: aiohttp.ClientWebSocketResponse) -> tuple[dict[int, bytes], Any]:
    """Everything until the server closes: bytes per channel, and the channel-3 status."""
    out: dict[int, bytes] = {1: b"", 2: b""}
    status = None
    async for message in ws:
        assert message.type is aiohttp.WSMsgType.BINARY
        if message.data[0] == 3:
            status = json.loads(message.data[1:])
        else:
            out[message.data[0]] += message.data[1:]
    return out, status


async def read_until(ws: aiohttp.ClientWebSocketResponse, needle: bytes) -> bytes:
    seen = b""
    while needle not in seen:
        message = await ws.receive()
        assert message.type is aiohttp.WSMsgType.BINARY, message
        assert message.data[0] in (1, 2), message.data
        seen += message.data[1:]
    return seen


async def running(client: JobsClient, body: Mapping[str, Any]) -> str:
    job = await client.submit(body)
    await client.wait_for(job["id"], ["running"])
    return str(job["id"])


@pytest.mark.both_orchestrators
async def test_exec_round_trips_stdin_and_reports_exit_code(alice: JobsClient) -> None:
    job_id = await running(alice, busybox_job("sleep 300"))
    async with channels(alice, job_id, "exec", cmd="cat", stdin="1") as ws:
        await ws.send_bytes(b"\x00hello through cat\n")
        await ws.send_bytes(b"\x00")  # EOF: cat ends
        out, status = await collect(ws)
    assert out[1] == b"hello through cat\n"
    assert status == {"exit_code": 0}


@pytest.mark.both_orchestrators
async def test_exec_keeps_stdout_and_stderr_apart(alice: JobsClient) -> None:
    job_id = await running(alice, busybox_job("sleep 300"))
    command = "sh -c 'echo to-out; echo to-err >&2; exit 7'"
    async with channels(alice, job_id, "exec", cmd=command) as ws:
        out, status = await collect(ws)
    assert out == {1: b"to-out\n", 2: b"to-err\n"}
    assert status == {"exit_code": 7}


async def test_exec_of_a_missing_program_fails_with_its_exit_code(alice: JobsClient) -> None:
    job_id = await running(alice, busybox_job("sleep 300"))
    async with channels(alice, job_id, "exec", cmd="no-such-program") as ws:
        _, status = await collect(ws)
    assert status is not None
    assert status["exit_code"] != 0


@pytest.mark.both_orchestrators
async def test_exec_tty_follows_resize(alice: JobsClient) -> None:
    job_id = await running(alice, busybox_job("sleep 300"))
    async with channels(alice, job_id, "exec", cmd="sh", tty="1", stdin="1", stderr="0") as ws:
        await ws.send_bytes(b'\x04{"height": 33, "width": 111}')
        await ws.send_bytes(b"\x00stty size\n")
        assert b"33 111" in await read_until(ws, b"33 111")
        await ws.send_bytes(b'\x04{"Height": 21, "Width": 80}')
        # On Slurm a new size travels beside what is typed, not before it (docs/scale-out.md):
        # the shell waits for it. `2[1]` keeps the echoed command line from matching.
        wait = b'until stty size | grep -q "^2[1] 80$"; do sleep 0.1; done'
        await ws.send_bytes(b"\x00" + wait + b"; stty size; exit 3\n")
        out, status = await collect(ws)
    assert b"\n21 80" in out[1]
    assert status == {"exit_code": 3}


async def test_attach_streams_a_running_jobs_output_and_its_end(alice: JobsClient) -> None:
    job_id = await running(alice, busybox_job("sleep 1; echo attached; exit 5"))
    async with channels(alice, job_id, "attach", stdout="1", stderr="1") as ws:
        out, status = await collect(ws)
    assert out[1] == b"attached\n"
    assert status == {"exit_code": 5}


@pytest.mark.both_orchestrators
async def test_attach_types_into_a_tty_job(alice: JobsClient) -> None:
    job_id = await running(alice, busybox_job("sh", tty=True))
    async with channels(alice, job_id, "attach", tty="1", stdin="1", stderr="0") as ws:
        await ws.send_bytes(b"\x00echo $((6 * 7))\n")
        assert b"42" in await read_until(ws, b"42")
        await ws.send_bytes(b"\x00exit 4\n")
        _, status = await collect(ws)
    assert status == {"exit_code": 4}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"tty": "1", "stdout": "1", "stderr": "1"}, "tty"),
        ({"stdin": "0", "stdout": "0", "stderr": "0"}, "at least one"),
        ({"stdin": "maybe"}, "stdin"),
    ],
)
async def test_exec_refuses_impossible_stream_choices(
    alice: JobsClient, query: dict[str, str], message: str
) -> None:
    job_id = await running(alice, busybox_job("sleep 300"))
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        async with channels(alice, job_id, "exec", cmd="true", **query):
            pass
    assert caught.value.status == 400
    assert caught.value.headers is not None
    assert message in json.loads(caught.value.headers["X-Error"])["error"]


async def test_exec_of_unknown_or_finished_jobs_is_not_found(alice: JobsClient) -> None:
    done = await alice.submit(busybox_job("true"))
    await alice.wait_for(done["id"], ["succeeded"])
    for job_id in ("job-00000000-0000-0000-0000-000000000000", done["id"]):
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            async with channels(alice, job_id, "exec", cmd="true"):
                pass
        assert caught.value.status == 404
        assert caught.value.headers is not None
        assert "X-Error" in caught.value.headers


@pytest.mark.both_orchestrators
async def test_exec_attach_and_port_forward_need_write_permission(
    alice: JobsClient, bob: JobsClient
) -> None:
    job_id = await running(alice, busybox_job("sleep 300"))
    for path, query in (("exec", {"cmd": "true"}), ("attach", {}), ("port_forward/80", {})):
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            async with bob.session.ws_connect(bob.jobs_url / job_id / path, params=query):
                pass
        assert caught.value.status in (403, 404)  # bob may not even see the job


HTTP_SERVER = (
    "mkdir -p /srv && head -c 3000000 /dev/urandom > /srv/big && cd /srv"
    " && exec python3 -m http.server 8000"
)


@pytest.mark.both_orchestrators
async def test_port_forward_carries_http_both_ways(alice: JobsClient, debian_image: str) -> None:
    body = {
        "image": debian_image,
        "command": f"bash -c '{HTTP_SERVER}'",
        "preset_name": "half",
    }
    job_id = await running(alice, body)
    url = alice.jobs_url / job_id / "port_forward" / "8000"
    request = b"GET /big HTTP/1.0\r\nHost: job\r\n\r\n"

    async def fetch() -> bytes:
        async with alice.session.ws_connect(url, max_msg_size=0) as ws:
            await ws.send_bytes(request)
            return b"".join([m.data async for m in ws])

    async def handshake() -> int:
        try:
            async with alice.session.ws_connect(url):
                return 101
        except aiohttp.WSServerHandshakeError as error:
            return error.status

    while True:  # the server inside is still starting while the port answers 400
        if await handshake() != 400:
            break
        await asyncio.sleep(0.2)

    first = await fetch()
    responses = await asyncio.gather(*(fetch() for _ in range(8)))
    head, _, payload = first.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200")
    assert len(payload) == 3_000_000
    assert all(r.partition(b"\r\n\r\n")[2] == payload for r in responses)


async def test_port_forward_to_a_closed_port_or_a_bad_port_is_400(alice: JobsClient) -> None:
    job_id = await running(alice, busybox_job("sleep 300"))
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        async with alice.session.ws_connect(alice.jobs_url / job_id / "port_forward" / "9"):
            pass
    assert caught.value.status == 400
    assert caught.value.headers is not None
    assert json.loads(caught.value.headers["X-Error"])["msg"] == "Cannot connect to port 9"
    for bad in ("http", "70000"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            async with alice.session.ws_connect(alice.jobs_url / job_id / "port_forward" / bad):
                pass
        assert caught.value.status == 400
        assert caught.value.headers is not None
        assert "X-Error" in caught.value.headers
