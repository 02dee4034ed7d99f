"""Exec, attach (docs/protocol.md §4.1) and port forwarding (4.2) over the monitoring websockets."""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import aiohttp
from yarl import URL

from ._core import _Core, error_from_response
from ._errors import StdStreamError
from ._jobs_entities import Message, StdStream
from ._jobs_monitor import RouteMissing, websocket

log = logging.getLogger(__name__)

PROTOCOL = "v2.channels.neu.ro"
STDIN, STATUS, RESIZE = 0, 3, 4
READ_SIZE = 4 * 1024 * 1024


class ChannelStream(StdStream):
    """A `v2.channels.neu.ro` websocket: byte 0 of every binary message is the channel."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._closing = False

    async def close(self) -> None:
        self._closing = True
        await self._ws.close()

    async def read_out(self) -> Message | None:
        """The next stdout/stderr chunk; None after close. The final status raises
        StdStreamError with the exit code, 0 included."""
        if self._closing:
            return None
        message = await self._ws.receive()
        if message.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
        ):
            self._closing = True
            return None
        if message.type == aiohttp.WSMsgType.ERROR:
            self._closing = True
            raise self._ws.exception() or RuntimeError("Websocket error")
        if message.type != aiohttp.WSMsgType.BINARY or not message.data:
            raise RuntimeError(f"Unexpected websocket message: {message.type.name}")
        channel, payload = message.data[0], bytes(message.data[1:])
        if channel == STATUS:
            self._closing = True
            raise StdStreamError(_exit_code(payload))
        return Message(channel, payload)

    async def write_in(self, data: bytes) -> None:
        """Send `data` to stdin; empty `data` closes the job's stdin (EOF)."""
        if not self._closing:
            await self._ws.send_bytes(bytes([STDIN]) + data)

    async def resize(self, h: int, w: int) -> None:
        if not self._closing:
            size = json.dumps({"height": h, "width": w}).encode()
            await self._ws.send_bytes(bytes([RESIZE]) + size)


def _exit_code(payload: bytes) -> int:
    try:
        return int(json.loads(payload)["exit_code"])
    except (ValueError, KeyError, TypeError):
        return 1  # the spec's reading of a status it cannot parse


def stream_query(
    *, tty: bool, stdin: bool, stdout: bool, stderr: bool, cmd: str | None = None
) -> dict[str, str]:
    query = {
        "tty": _flag(tty),
        "stdin": _flag(stdin),
        "stdout": _flag(stdout),
        "stderr": _flag(stderr),
    }
    if cmd is not None:
        query["cmd"] = cmd
    return query


def _flag(value: bool) -> str:
    return "1" if value else "0"


@contextlib.asynccontextmanager
async def open_stream(
    core: _Core, url: URL, auth: str, query: Mapping[str, str]
) -> AsyncIterator[StdStream]:
    try:
        async with websocket(core, url, auth, query, protocols=(PROTOCOL,)) as ws:
            stream = ChannelStream(ws)
            try:
                yield stream
            finally:
                await stream.close()
    except RouteMissing:
        raise error_from_response(404, "The server does not provide exec/attach") from None


@contextlib.asynccontextmanager
async def forward_port(
    core: _Core, url: URL, auth: Callable[[], Awaitable[str]], local_port: int
) -> AsyncIterator[None]:
    """Listen on localhost:`local_port`; each connection gets its own websocket to `url`."""
    connections: set[asyncio.Task[None]] = set()

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        try:
            await _relay(core, url, await auth(), reader, writer)
        except Exception as error:  # one failed connection must not stop the others
            log.warning("Port forwarding to %s failed: %s", url, error)
        finally:
            connections.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(accepted, "localhost", local_port)
    try:
        yield
    finally:
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()


async def _relay(
    core: _Core,
    url: URL,
    auth: str,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    try:
        async with websocket(core, url, auth) as ws:
            await _pump(ws, reader, writer)
    except RouteMissing:
        raise error_from_response(404, "The server does not provide port forwarding") from None


async def _pump(
    ws: aiohttp.ClientWebSocketResponse,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Bytes both ways until either side closes, which ends the other side too."""

    async def to_job() -> None:
        while chunk := await reader.read(READ_SIZE):
            await ws.send_bytes(chunk)

    async def from_job() -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.BINARY:
                break
            writer.write(message.data)
            await writer.drain()

    pumps = {asyncio.create_task(to_job()), asyncio.create_task(from_job())}
    try:
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pump in pumps:
            pump.cancel()
        for pump in pumps:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await pump
