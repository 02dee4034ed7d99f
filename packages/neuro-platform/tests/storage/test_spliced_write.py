"""WRITE bodies the server splices from the socket into the file (storage/socket_body.py),
and the ones it still reads through aiohttp: on a real server, over real sockets."""

from __future__ import annotations

import asyncio
import errno
import io
import os
from collections.abc import AsyncIterator

import pytest

from neuro_platform.testing import PlatformServer

from .conftest import StorageUser

MiB = 1024 * 1024


@pytest.fixture
def platform_server(shared_platform_server: PlatformServer) -> PlatformServer:
    """One server for the module: each test writes files of its own names. A test that
    leaves the server busy (a cut or stalled body) shows in the tests after it as well."""
    return shared_platform_server


async def _open_write(
    server: PlatformServer, user: StorageUser, path: str, offset: int, length: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw connection that has sent a WRITE's headers and none of its body yet."""
    assert server.base_url.host is not None
    assert server.base_url.port is not None
    reader, writer = await asyncio.open_connection(server.base_url.host, server.base_url.port)
    target = user.url(path, op="WRITE")
    writer.write(
        (
            f"PATCH {target.raw_path_qs} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {user.token}\r\n"
            "Content-Type: application/octet-stream\r\n"
            f"Content-Range: bytes {offset}-{offset + length - 1}/*\r\n"
            f"Content-Length: {length}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    return reader, writer


async def test_a_body_arriving_in_pieces_lands_whole_and_the_connection_closes(
    platform_server: PlatformServer, alice: StorageUser
) -> None:
    head = os.urandom(MiB)
    body = os.urandom(3 * MiB + 17)
    assert (await alice.put("alice/pieces.bin", head)).status == 201
    reader, writer = await _open_write(platform_server, alice, "alice/pieces.bin", MiB, len(body))
    try:
        # Pauses between pieces: the server's worker finds the socket empty and waits.
        for start in range(0, len(body), 700 * 1024):
            writer.write(body[start : start + 700 * 1024])
            await writer.drain()
            await asyncio.sleep(0.05)
        answer = await asyncio.wait_for(reader.read(), 30)  # read() ends once it closes
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK", answer
    assert b"\r\nConnection: close\r\n" in rest
    assert await alice.read("alice/pieces.bin") == head + body


async def test_keep_alive_clients_go_on_after_spliced_writes(alice: StorageUser) -> None:
    # One aiohttp session, as the SDK uses: each WRITE's answer says the connection closes,
    # so the next request opens a new one instead of failing on the closed one.
    data = os.urandom(4 * MiB)
    assert (await alice.put("alice/keep.bin", data[:MiB])).status == 201
    for offset in range(MiB, len(data), MiB):
        written = await alice.request(
            "PATCH",
            "alice/keep.bin",
            "WRITE",
            data=data[offset : offset + MiB],
            headers={"Content-Range": f"bytes {offset}-{offset + MiB - 1}/*"},
        )
        assert written.status == 200, await written.text()
        assert written.headers["Connection"] == "close"
    assert await alice.read("alice/keep.bin") == data


async def test_a_body_cut_short_by_the_client_frees_the_server(
    platform_server: PlatformServer, alice: StorageUser
) -> None:
    data = os.urandom(2 * MiB)
    assert (await alice.put("alice/cut.bin", b"x")).status == 201
    _, writer = await _open_write(platform_server, alice, "alice/cut.bin", 0, len(data))
    writer.write(data[:MiB])
    await writer.drain()
    writer.close()  # gone before the second half
    await writer.wait_closed()

    # The server is free: the same range written in full afterwards is what the file holds.
    written = await alice.request(
        "PATCH",
        "alice/cut.bin",
        "WRITE",
        data=io.BytesIO(data),
        headers={"Content-Range": f"bytes 0-{len(data) - 1}/*"},
    )
    assert written.status == 200, await written.text()
    assert await alice.read("alice/cut.bin") == data


async def test_a_refused_write_answers_without_reading_its_body(
    alice: StorageUser, bob: StorageUser
) -> None:
    assert (await alice.put("alice/private.bin", b"alice's")).status == 201
    refused = await bob.request(
        "PATCH",
        "alice/private.bin",
        "WRITE",
        data=io.BytesIO(os.urandom(8 * MiB)),
        headers={"Content-Range": f"bytes 0-{8 * MiB - 1}/*"},
    )
    # The server drops the body before answering, so the client, still sending, reads the
    # answer instead of meeting a reset; the connection then closes instead of being reused.
    assert refused.status == 403
    assert refused.headers["Connection"] == "close"
    assert (await bob.request("GET", "bob", "LISTSTATUS")).status == 200
    assert await alice.read("alice/private.bin") == b"alice's"


async def test_a_content_length_other_than_the_range_is_refused(alice: StorageUser) -> None:
    assert (await alice.put("alice/mismatch.bin", b"abcdef")).status == 201
    response = await alice.request(
        "PATCH",
        "alice/mismatch.bin",
        "WRITE",
        data=b"XYZW",
        headers={"Content-Range": "bytes 0-2/*"},
    )
    assert response.status == 400
    assert (await response.json())["errno"] == errno.errorcode[errno.EINVAL]
    assert await alice.read("alice/mismatch.bin") == b"abcdef"


@pytest.mark.parametrize("cut", [False, True], ids=["whole", "longer-than-range"])
async def test_chunked_bodies_are_read_through_aiohttp(alice: StorageUser, cut: bool) -> None:
    # No Content-Length: nothing to splice by; the range still bounds what is written.
    pieces = [os.urandom(300 * 1024) for _ in range(4)]
    data = b"".join(pieces)
    length = len(data) - 1 if cut else len(data)
    assert (await alice.put("alice/chunked.bin", b"")).status == 201

    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    response = await alice.request(
        "PATCH",
        "alice/chunked.bin",
        "WRITE",
        data=body(),
        headers={"Content-Range": f"bytes 0-{length - 1}/*"},
    )
    if cut:
        assert response.status == 400
        assert "longer than its Content-Range" in (await response.json())["error"]
    else:
        assert response.status == 200, await response.text()
        assert "Connection" not in response.headers or response.headers["Connection"] != "close"
        assert await alice.read("alice/chunked.bin") == data


async def test_stalled_uploads_hold_no_thread(
    platform_server: PlatformServer, alice: StorageUser
) -> None:
    # More stalled WRITEs than the server has threads of any pool: each waits in the event
    # loop, so other requests, and the stalled ones once they go on, all get served.
    count = 40
    first, rest = os.urandom(100 * 1024), os.urandom(50 * 1024)
    connections = []
    for index in range(count):
        assert (await alice.put(f"alice/stalled-{index}.bin", b"")).status == 201
        connections.append(
            await _open_write(
                platform_server, alice, f"alice/stalled-{index}.bin", 0, len(first) + len(rest)
            )
        )
    await asyncio.sleep(0.5)  # the server has taken every socket over and waits for bytes
    for _, writer in connections:
        writer.write(first)
        await writer.drain()
    await asyncio.sleep(0.5)  # every server worker has found its socket empty again

    data = os.urandom(2 * MiB)

    async def upload_meanwhile() -> None:
        assert (await alice.put("alice/meanwhile.bin", data[:MiB])).status == 201
        written = await alice.request(
            "PATCH",
            "alice/meanwhile.bin",
            "WRITE",
            data=io.BytesIO(data[MiB:]),
            headers={"Content-Range": f"bytes {MiB}-{len(data) - 1}/*"},
        )
        assert written.status == 200, await written.text()
        assert await alice.read("alice/meanwhile.bin") == data

    await asyncio.wait_for(upload_meanwhile(), 30)  # a hang would mean no thread was free

    for _, writer in connections:
        writer.write(rest)
        await writer.drain()
    for reader, writer in connections:
        answer = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200 OK"), answer
    for index in (0, count - 1):
        assert await alice.read(f"alice/stalled-{index}.bin") == first + rest
