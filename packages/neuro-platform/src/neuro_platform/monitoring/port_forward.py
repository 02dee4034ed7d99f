"""Port forwarding (docs/protocol.md §4.2): one websocket per TCP connection to a job's port.

The server connects to the port inside the job's network before it accepts the upgrade, so a
closed port is a plain HTTP 400 the client can report, not a socket that closes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import WSMsgType, web

from ..jobs.keys import ORCHESTRATOR
from ..orchestrator import ContainerNotRunningError
from .running import caller, running_job

WS_HEARTBEAT_S = 30.0
CONNECT_TIMEOUT_S = 10.0
READ_SIZE = 4 * 1024 * 1024

routes = web.RouteTableDef()


@routes.get("/{id}/port_forward/{port}")
async def port_forward(request: web.Request) -> web.StreamResponse:
    user = await caller(request)
    port = _port(request.match_info["port"])
    job = await running_job(request, user)
    address = await request.config_dict[ORCHESTRATOR].ip_address(job.id)
    if address is None:
        raise ContainerNotRunningError(f"Job {job.id} is not running")
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(address, port)
    except (OSError, TimeoutError) as error:
        message = f"Cannot connect to port {port}"
        text = json.dumps({"msg": message, "error": f"{message}: {error}"})
        raise web.HTTPBadRequest(
            text=text, content_type="application/json", headers={"X-Error": text}
        ) from error
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
