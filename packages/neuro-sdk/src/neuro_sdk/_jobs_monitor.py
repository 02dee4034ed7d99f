"""The monitoring service's streams (docs/protocol.md §4): logs and telemetry over websockets.

Handshake failures go through the same status → exception table as every HTTP request
(docs/protocol.md §9), with the message from the ``X-Error`` header. A server without the
``log_ws`` route (404/405 without ``X-Error``) gets the plain HTTP ``log`` request instead.
"""

from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
from yarl import URL

from ._core import _Core, error_from_response
from ._jobs_entities import JobTelemetry
from ._jobs_wire import telemetry_from_api
from ._tracing import trace_headers

HEARTBEAT_S = 30
LOG_CHUNK_SIZE = 64 * 1024
# Log streams stay open as long as the job runs: no read timeout, only a connect one.
STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_read=None, connect=60)


class RouteMissing(Exception):
    """The server has no websocket route for this stream."""


def log_query(
    since: datetime | None, timestamps: bool, separator: str | None, debug: bool
) -> dict[str, str]:
    query: dict[str, str] = {}
    if since is not None:
        # A naive datetime is local time, as documented.
        query["since"] = since.astimezone(UTC).isoformat()
    if timestamps:
        query["timestamps"] = "true"
    if separator is not None:
        query["separator"] = separator
    if debug:
        query["debug"] = "true"
    return query


@asynccontextmanager
async def websocket(
    core: _Core,
    url: URL,
    auth: str,
    params: Mapping[str, str] | None = None,
    *,
    protocols: Sequence[str] = (),
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    headers = {"Authorization": auth, **trace_headers()}
    try:
        ws = await core.session.ws_connect(
            url,
            headers=headers,
            params=params,
            protocols=protocols,
            heartbeat=HEARTBEAT_S,
            timeout=aiohttp.ClientWSTimeout(ws_close=10),
            max_msg_size=0,
        )
    except aiohttp.WSServerHandshakeError as exc:
        x_error = exc.headers.get("X-Error") if exc.headers else None
        if x_error is None and exc.status in (404, 405):
            raise RouteMissing() from exc
        raise error_from_response(exc.status, x_error or exc.message) from exc
    async with ws:
        yield ws


def _unexpected(ws: aiohttp.ClientWebSocketResponse, msg: aiohttp.WSMessage) -> BaseException:
    if msg.type == aiohttp.WSMsgType.ERROR:
        error = ws.exception()
        if error is not None:
            return error
    return RuntimeError(f"Unexpected websocket message: {msg.type.name}")


async def stream_logs(
    core: _Core, monitoring_url: URL, job_id: str, auth: str, query: Mapping[str, str]
) -> AsyncGenerator[bytes]:
    try:
        async with websocket(core, monitoring_url / job_id / "log_ws", auth, query) as ws:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.BINARY:
                    if msg.data:
                        yield msg.data
                else:
                    raise _unexpected(ws, msg)
        return
    except RouteMissing:
        pass
    async with core.request(
        "GET", monitoring_url / job_id / "log", auth=auth, params=query, timeout=STREAM_TIMEOUT
    ) as response:
        async for chunk in response.content.iter_chunked(LOG_CHUNK_SIZE):
            yield chunk


async def stream_telemetry(
    core: _Core, monitoring_url: URL, job_id: str, auth: str
) -> AsyncGenerator[JobTelemetry]:
    received_any = False
    try:
        async with websocket(core, monitoring_url / job_id / "top", auth) as ws:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise _unexpected(ws, msg)
                payload: Any = msg.json()
                received_any = True
                yield telemetry_from_api(payload)
    except RouteMissing:
        raise error_from_response(404, "The server does not provide job telemetry") from None
    if not received_any:
        raise ValueError(f"Job is not running. Job Id = {job_id}")
