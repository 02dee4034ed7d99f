"""Exec and attach websockets (docs/protocol.md §4, framing 4.1 `v2.channels.neu.ro`).

Every message is binary: byte 0 names the channel, the rest is the payload. The client sends
stdin (0) and terminal sizes (4); the server sends stdout (1), stderr (2) and, once the
process has ended, its exit status as JSON (3), then closes.

An empty stdin message closes the process's stdin (so `cat` and friends see EOF); the v2
protocol has no other way to say so, and no client sends empty stdin for anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shlex

from aiohttp import WSMsgType, web

from ..api.openapi import describe
from .keys import MONITORING
from .running import caller, running_job
from .schema import StreamQuery
from .service import InteractiveSession, StreamOptions

log = logging.getLogger(__name__)

PROTOCOL = "v2.channels.neu.ro"
WS_HEARTBEAT_S = 30.0
STDIN, STDOUT, STDERR, STATUS, RESIZE = range(5)
# After the output ends the engine may take a moment to record the exit code.
EXIT_CODE_POLL_S = 0.05
EXIT_CODE_WAIT_S = 5.0
_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false"})

routes = web.RouteTableDef()


@routes.get("/{id}/exec")
@routes.post("/{id}/exec")
@describe("Run a command in a job (websocket)", query=StreamQuery)
async def exec_ws(request: web.Request) -> web.StreamResponse:
    user = await caller(request)
    options = stream_options(request)
    command = shlex.split(request.query.get("cmd", ""))
    if not command:
        raise ValueError("cmd is required")
    job = await running_job(request, user)
    async with request.config_dict[MONITORING].exec(job, command, options) as session:
        return await _serve(request, session)


@routes.get("/{id}/attach")
@routes.post("/{id}/attach")
@describe("Attach to a job (websocket)", query=StreamQuery)
async def attach_ws(request: web.Request) -> web.StreamResponse:
    user = await caller(request)
    options = stream_options(request)
    job = await running_job(request, user)
    async with request.config_dict[MONITORING].attach(job, options) as session:
        return await _serve(request, session)


def stream_options(request: web.Request) -> StreamOptions:
    """The spec's defaults (stdout and stderr on) and its two refusals."""
    options = StreamOptions(
        tty=_flag(request, "tty", False),
        stdin=_flag(request, "stdin", False),
        stdout=_flag(request, "stdout", True),
        stderr=_flag(request, "stderr", True),
    )
    if options.tty and options.stdout and options.stderr:
        raise ValueError("Stdout and stderr cannot be multiplexed in tty mode")
    if not (options.stdin or options.stdout or options.stderr):
        raise ValueError("Required at least one of stdin, stdout or stderr")
    return options


def _flag(request: web.Request, name: str, default: bool) -> bool:
    value = request.query.get(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"{name} must be one of 1, true, 0, false")


async def _serve(request: web.Request, session: InteractiveSession) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=(PROTOCOL,), heartbeat=WS_HEARTBEAT_S)
    await ws.prepare(request)
    inbound = asyncio.create_task(_pump_in(ws, session))
    outbound = asyncio.create_task(_pump_out(ws, session))
    try:
        await asyncio.wait({inbound, outbound}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (inbound, outbound):
            task.cancel()
            # A client that vanished mid-write is how sessions often end: not an error.
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
    await ws.close()
    return ws


async def _pump_in(ws: web.WebSocketResponse, session: InteractiveSession) -> None:
    """Client → process until the client goes away."""
    async for message in ws:
        if message.type is not WSMsgType.BINARY or not message.data:
            continue  # only binary frames carry channels
        channel, payload = message.data[0], message.data[1:]
        if channel == STDIN:
            if payload:
                await session.write(payload)
            else:
                await session.close_stdin()
        elif channel == RESIZE:
            size = _terminal_size(payload)
            if size is not None:
                await session.resize(*size)


async def _pump_out(ws: web.WebSocketResponse, session: InteractiveSession) -> None:
    """Process → client, then the exit status once the process has ended."""
    while (output := await session.read()) is not None:
        await ws.send_bytes(bytes([output.fileno]) + output.data)
    exit_code = await _exit_code(session)
    if exit_code is not None:
        await ws.send_bytes(bytes([STATUS]) + json.dumps({"exit_code": exit_code}).encode())


async def _exit_code(session: InteractiveSession) -> int | None:
    """None when the output closed but the process still runs (it closed its stdout)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(EXIT_CODE_WAIT_S):
            while True:
                code = await session.exit_code()
                if code is not None:
                    return code
                await asyncio.sleep(EXIT_CODE_POLL_S)
    return None


def _terminal_size(payload: bytes) -> tuple[int, int] | None:
    """`{"height": h, "width": w}`, keys case-insensitive like Kubernetes; junk is ignored."""
    try:
        size = {str(k).lower(): v for k, v in json.loads(payload).items()}
        height, width = int(size["height"]), int(size["width"])
    except (ValueError, KeyError, TypeError, AttributeError):
        log.debug("ignoring a malformed resize message %r", payload)
        return None
    if not (0 < height < 2**16 and 0 < width < 2**16):
        return None
    return height, width
