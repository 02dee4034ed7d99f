"""Monitoring handlers, mounted in the jobs sub-application at `/api/v1/jobs`."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import replace
from datetime import UTC, datetime

from aiohttp import WSCloseCode, web

from ..api.keys import AUTHENTICATOR
from ..api.openapi import describe
from ..jobs.entities import MIB, Job
from ..jobs.keys import MONITORING_CLUSTER
from ..permissions.actions import Action
from .keys import MONITORING
from .logs import LogOptions
from .schema import LogQuery, SignalQuery
from .service import ContainerStats

log = logging.getLogger(__name__)

WS_HEARTBEAT_S = 30.0

fixed_routes = web.RouteTableDef()
routes = web.RouteTableDef()


@fixed_routes.get("/capacity")
@fixed_routes.post("/available")  # the old name of the same question
async def capacity(request: web.Request) -> web.Response:
    """How many more jobs of each preset fit on the node now: `{"<preset>": n}`."""
    await request.config_dict[AUTHENTICATOR].required_user(request)
    cluster = request.config_dict[MONITORING_CLUSTER]
    return web.json_response(await request.config_dict[MONITORING].capacity(cluster))


@routes.get("/{id}/log_ws")
@describe("A job's log (websocket)", query=LogQuery)
async def log_ws(request: web.Request) -> web.WebSocketResponse:
    job = await _job(request, Action.READ)
    options = _log_options(request)
    ws = web.WebSocketResponse(heartbeat=WS_HEARTBEAT_S)
    await ws.prepare(request)
    client_left = asyncio.ensure_future(ws.receive())
    try:
        async for chunk in request.config_dict[MONITORING].logs(job, options):
            if client_left.done():
                break
            await ws.send_bytes(chunk)
    except Exception:
        # Past the upgrade an error response would land inside the websocket stream as
        # garbage frames: close with "internal error" instead.
        log.exception("streaming the logs of %s failed", job.id)
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"Cannot read the job's logs")
        return ws
    finally:
        client_left.cancel()
    await ws.close()
    return ws


@routes.get("/{id}/log")
@describe("A job's log", query=LogQuery)
async def log_http(request: web.Request) -> web.StreamResponse:
    job = await _job(request, Action.READ)
    options = _log_options(request)
    separator = options.separator or f"=== Live logs ==={secrets.token_hex(16)}"
    options = replace(options, separator=separator)
    response = web.StreamResponse(
        headers={"Content-Type": "text/plain; charset=utf-8", "X-Separator": separator}
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        async for chunk in request.config_dict[MONITORING].logs(job, options):
            await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client read what it wanted (say, one line) and left: not a server error
    return response


@routes.get("/{id}/top")
async def top(request: web.Request) -> web.WebSocketResponse:
    """One usage sample (about a second apart) per text frame while the job runs."""
    job = await _job(request, Action.READ)
    monitoring = request.config_dict[MONITORING]
    ws = web.WebSocketResponse(heartbeat=WS_HEARTBEAT_S)
    await ws.prepare(request)
    # The client only ever closes: reading its close frame is how its leaving is noticed.
    client_left = asyncio.ensure_future(ws.receive())
    try:
        while not client_left.done():
            job, stats = await monitoring.usage(job)
            if stats is None or client_left.done():
                break
            await ws.send_str(json.dumps(_telemetry(stats)))
    finally:
        client_left.cancel()
    await ws.close()
    return ws


def _telemetry(stats: ContainerStats) -> dict[str, float | int]:
    """One `top` frame (docs/protocol.md §4); the gpu fields only for a job that uses its GPUs."""
    sample: dict[str, float | int] = {
        "cpu": round(stats.cpu, 4),
        "memory": stats.memory_bytes // MIB,
        "memory_bytes": stats.memory_bytes,
        "timestamp": time.time(),
    }
    if stats.gpu_duty_cycle is not None:
        sample["gpu_duty_cycle"] = stats.gpu_duty_cycle
    if stats.gpu_memory_bytes is not None:
        sample["gpu_memory"] = stats.gpu_memory_bytes // MIB
        sample["gpu_memory_bytes"] = stats.gpu_memory_bytes
    return sample


@routes.post("/{id}/kill")
@describe("Signal a job", query=SignalQuery)
async def send_signal(request: web.Request) -> web.Response:
    """Signals the job's container (SIGKILL unless `?signal=` names another)."""
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    signal = request.query.get("signal", "SIGKILL")
    await request.config_dict[MONITORING].signal(user, request.match_info["id"], signal)
    return web.Response(status=204)


async def _job(request: web.Request, action: Action) -> Job:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    return await request.config_dict[MONITORING].job(user, request.match_info["id"], action)


def _log_options(request: web.Request) -> LogOptions:
    query = request.query
    since = query.get("since")
    parsed_since = None
    if since:
        try:
            parsed_since = datetime.fromisoformat(since)
        except ValueError:
            raise ValueError("since must be an ISO 8601 date and time") from None
        if parsed_since.tzinfo is None:
            parsed_since = parsed_since.replace(tzinfo=UTC)
    return LogOptions(
        since=parsed_since,
        timestamps=query.get("timestamps", "").lower() in ("1", "true"),
        separator=query.get("separator") or None,
    )
