"""Port forwarding (docs/protocol.md §4.2): one websocket per TCP connection to a job's port.

The server connects to the port inside the job's network before it accepts the upgrade, so a
closed port is a plain HTTP 400 the client can report, not a socket that closes at once.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import WSMsgType, web

from .keys import MONITORING
from .running import caller, running_job

WS_HEARTBEAT_S = 30.0
READ_SIZE = 4 * 1024 * 1024

routes = web.RouteTableDef()


@routes.get("/{id}/port_forward/{port}")
async def port_forward(request: web.Request) -> web.StreamResponse:
    user = await caller(request)
    port = _port(request.match_info["port"])
    job = await running_job(request, user)
    reader, writer = await request.config_dict[MONITORING].connect(job, port)
    try:
        ws = web.WebSocketResponse(heartbeat=WS_HEARTBEAT_S)
        await ws.prepare(request)
        await _pump(ws, reader, writer)
        await ws.close()
        return ws
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"Invalid port {text!r}: expected a number") from None
    if not 0 < port < 2**16:
        raise ValueError(f"Invalid port {port}: expected 1 to 65535")
    return port


async def _pump(
    ws: web.WebSocketResponse, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Bytes both ways until either side closes; that ends the other side too."""

    async def to_client() -> None:
        while chunk := await reader.read(READ_SIZE):
            await ws.send_bytes(chunk)

    async def to_job() -> None:
        async for message in ws:
            if message.type is WSMsgType.BINARY:
                writer.write(message.data)
                await writer.drain()

    tasks = {asyncio.create_task(to_client()), asyncio.create_task(to_job())}
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
