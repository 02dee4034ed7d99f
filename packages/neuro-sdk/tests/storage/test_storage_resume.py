"""Transfers that survive faults: a killed client continued later, and connections cut
mid-transfer by a TCP proxy in front of the real server (a fault injector, not a fake)."""

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

import neuro_sdk
from neuro_platform.testing.server import PlatformServer
from neuro_sdk._transfer import Transfers, TransferSettings

from .conftest import bound_listener, client_via_proxy, server_behind

KILLED_UPLOAD = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from yarl import URL
    import neuro_sdk
    from neuro_sdk._transfer import Transfers, TransferSettings

    config, source, target, stop_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    class FreezeMidway(neuro_sdk.AbstractFileProgress):
        def start(self, data): pass
        def complete(self, data): pass
        def step(self, data):
            if data.current >= stop_at:
                print("FROZEN", data.current, flush=True)
                time.sleep(3600)  # the parent kills us here

    async def main():
        async with neuro_sdk.get(path=Path(config)) as client:
            settings = TransferSettings(first_chunk_size=65536, write_chunk_size=65536)
            client.storage._transfers = Transfers(client.storage._remote, settings)
            await client.storage.upload_file(URL(source), URL(target), progress=FreezeMidway())

    asyncio.run(main())
    """
)


async def test_upload_killed_midway_is_continued_to_an_identical_file(
    client: neuro_sdk.Client, remote_dir: URL, tmp_path: Path
) -> None:
    data = os.urandom(1_500_000)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    os.utime(source, (time.time() - 60, time.time() - 60))
    await client.storage.mkdir(remote_dir, parents=True)
    target = (await client.storage.stat(remote_dir)).uri / "big.bin"
    script = tmp_path / "upload.py"
    script.write_text(KILLED_UPLOAD)

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        str(tmp_path / "neuro-config"),
        source.as_uri(),
        str(target),
        "600000",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await process.stdout.readline()
        assert line.startswith(b"FROZEN"), line
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()

    # The name never holds a half file: the upload grows under a visibly marked name.
    with pytest.raises(neuro_sdk.ResourceNotFound):
        await client.storage.stat(target)
    staging = target.with_name("big.bin.neuro-upload")
    partial = (await client.storage.stat(staging)).size
    assert 600_000 <= partial < len(data)
    progress = StepRecorder()
    await client.storage.upload_file(
        URL(source.as_uri()), target, continue_=True, progress=progress
    )

    async with client.storage.open(target) as content:
        assert b"".join([chunk async for chunk in content]) == data
    assert progress.first_step > partial - 1, "continued where the staged upload stopped"
    with pytest.raises(neuro_sdk.ResourceNotFound):
        await client.storage.stat(staging)


class StepRecorder(neuro_sdk.AbstractFileProgress):
    def __init__(self) -> None:
        self.first_step = -1

    def start(self, data: Any) -> None:
        pass

    def complete(self, data: Any) -> None:
        pass

    def step(self, data: Any) -> None:
        if self.first_step < 0:
            self.first_step = data.current


WRITE_RANGE = re.compile(rb"^PATCH [^\r]*op=WRITE.*?\r\nContent-Range: bytes (\d+)-", re.S | re.I)


class CuttingProxy:
    """Forwards TCP to the server; cuts the first ``cuts`` connections once ``limit`` bytes
    have passed in the watched direction ("up": client to server, "down": the reverse)."""

    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.target_port = 0
        self.limit = 0
        self.cuts_left = 0
        self.direction = "down"
        self.bytes = {"up": 0, "down": 0}
        self.cuts_done = 0
        self.write_offsets: list[int] = []  # where each WRITE that came through started

    def arm(self, *, direction: str, limit: int, cuts: int) -> None:
        self.direction, self.limit, self.cuts_left = direction, limit, cuts
        self.bytes = {"up": 0, "down": 0}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        watched = {"count": 0}

        async def pump(
            src: asyncio.StreamReader, dst: asyncio.StreamWriter, direction: str
        ) -> None:
            with contextlib.suppress(ConnectionError):
                while chunk := await src.read(65536):
                    if direction == self.direction and self.cuts_left > 0:
                        if watched["count"] + len(chunk) >= self.limit:
                            self.cuts_left -= 1
                            self.cuts_done += 1
                            # The server reads what came through before the cut (a reset
                            # would drop what it had not read yet).
                            await asyncio.sleep(0.1)
                            writer.transport.abort()
                            up_writer.transport.abort()
                            return
                        watched["count"] += len(chunk)
                    self.bytes[direction] += len(chunk)
                    if direction == "up" and (found := WRITE_RANGE.search(chunk)):
                        self.write_offsets.append(int(found[1]))
                    dst.write(chunk)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer, "up"), pump(up_reader, writer, "down"))

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        server = await asyncio.start_server(self.handle, sock=self.listener)
        async with server:
            yield


@pytest.fixture
def proxied_server(tmp_path: Path) -> Iterator[tuple[PlatformServer, CuttingProxy]]:
    proxy = CuttingProxy(bound_listener())
    with server_behind(proxy.listener, tmp_path / "server") as server:
        proxy.target_port = server.base_url.port or 0
        yield server, proxy


@pytest.fixture
async def proxied_client(
    proxied_server: tuple[PlatformServer, CuttingProxy], tmp_path: Path
) -> AsyncIterator[tuple[neuro_sdk.Client, CuttingProxy]]:
    server, proxy = proxied_server
    async with proxy.serving(), client_via_proxy(server, tmp_path / "proxied-config") as client:
        settings = TransferSettings(
            first_chunk_size=256 * 1024, write_chunk_size=256 * 1024, retry_delay_s=0.01
        )
        client.storage._transfers = Transfers(client.storage._remote, settings)
        yield client, proxy


async def test_cut_connections_resume_uploads_and_downloads(
    proxied_client: tuple[neuro_sdk.Client, CuttingProxy], tmp_path: Path
) -> None:
    client, proxy = proxied_client
    data = os.urandom(3 * 2**20 + 12345)
    source = tmp_path / "source.bin"
    source.write_bytes(data)

    proxy.arm(direction="up", limit=100_000, cuts=3)
    await client.storage.upload_file(URL(source.as_uri()), URL("storage:cut.bin"))
    assert proxy.cuts_done == 3
    proxy.arm(direction="down", limit=1_000_000, cuts=2)
    target = tmp_path / "target.bin"
    await client.storage.download_file(URL("storage:cut.bin"), URL(target.as_uri()))

    assert proxy.cuts_done == 5
    assert target.read_bytes() == data
    # Resumed, not restarted: restarting would have moved 1 + 1 + 3 MiB.
    assert proxy.bytes["down"] < len(data) * 1.5


async def test_a_cut_write_is_resumed_where_the_server_got_to(
    proxied_client: tuple[neuro_sdk.Client, CuttingProxy], tmp_path: Path
) -> None:
    client, proxy = proxied_client
    # One WRITE for all but the first 256 KiB: a cut attempt must not start it over.
    settings = TransferSettings(
        first_chunk_size=256 * 1024, write_chunk_size=2**30, retry_delay_s=0.01
    )
    client.storage._transfers = Transfers(client.storage._remote, settings)
    data = os.urandom(8 * 2**20)
    source = tmp_path / "source.bin"
    source.write_bytes(data)

    proxy.arm(direction="up", limit=2 * 2**20, cuts=3)
    await client.storage.upload_file(URL(source.as_uri()), URL("storage:resumed.bin"))

    assert proxy.cuts_done == 3
    async with client.storage.open(URL("storage:resumed.bin")) as content:
        assert b"".join([chunk async for chunk in content]) == data
    # Each attempt starts where the last one got to, not at the start of the range.
    offsets = proxy.write_offsets
    assert len(offsets) == 4
    assert offsets[0] == 256 * 1024
    assert offsets == sorted(set(offsets)), offsets
    # Starting the WRITE over after each cut would have sent 3 x 2 MiB more.
    assert proxy.bytes["up"] < len(data) + 2**20


async def test_a_write_whose_answer_was_lost_is_not_sent_again(
    client: neuro_sdk.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = TransferSettings(first_chunk_size=65536, write_chunk_size=2**30)
    client.storage._transfers = Transfers(client.storage._remote, settings)
    data = os.urandom(3 * 2**20)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    remote = client.storage._remote
    write = remote.write
    writes: list[tuple[int, int]] = []

    async def write_then_lose_the_answer(uri: URL, offset: int, length: int, body: Any) -> None:
        writes.append((offset, length))
        await write(uri, offset, length, body)
        if len(writes) == 1:
            raise aiohttp.ServerDisconnectedError()  # the server had all of it

    monkeypatch.setattr(remote, "write", write_then_lose_the_answer)
    await client.storage.upload_file(URL(source.as_uri()), URL("storage:answer-lost.bin"))

    assert writes == [(65536, len(data) - 65536)]
    async with client.storage.open(URL("storage:answer-lost.bin")) as content:
        assert b"".join([chunk async for chunk in content]) == data
