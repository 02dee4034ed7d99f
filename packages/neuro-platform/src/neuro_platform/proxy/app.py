"""The reverse proxy to jobs' HTTP ports (path-based: `/jobs-http/<job id | name--owner>/...`).

A job's `http.requires_auth` makes the proxy ask for a platform token with `read` on the job
(the `Authorization` header, the `neuro-auth-token` query parameter or a cookie of that
name); the token is never passed on to the job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict

from ..api.keys import AUTHENTICATOR
from ..auth.identity import TOKEN_QUERY_PARAMETER, NotAuthenticatedError, request_token
from ..jobs.entities import Job, JobStatus
from ..jobs.keys import JOBS, ORCHESTRATOR
from ..jobs.service import JobLookupError
from ..permissions.actions import Action

PROXY_SESSION = web.AppKey("proxy_session", aiohttp.ClientSession)
# Headers about one connection, not the message (RFC 9110 7.6.1), plus ones we set.
_HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        hdrs.CONNECTION,
        hdrs.KEEP_ALIVE,
        hdrs.PROXY_AUTHENTICATE,
        hdrs.PROXY_AUTHORIZATION,
        hdrs.TE,
        hdrs.TRAILER,
        hdrs.TRANSFER_ENCODING,
        hdrs.UPGRADE,
        hdrs.HOST,
        hdrs.CONTENT_LENGTH,
    )
)


def create_proxy_app() -> web.Application:
    app = web.Application(middlewares=[_not_found_middleware])
    app.cleanup_ctx.append(_client_session)
    app.router.add_route("*", "/{label}", _add_slash)
    app.router.add_route("*", "/{label}/{path:.*}", proxy)
    return app


@web.middleware
async def _not_found_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except JobLookupError as e:
        raise web.HTTPNotFound(reason=str(e)) from e


async def _client_session(app: web.Application) -> AsyncIterator[None]:
    # No overall timeout: a job may stream a long answer.
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=None, connect=10), auto_decompress=False
    ) as session:
        app[PROXY_SESSION] = session
        yield


async def _add_slash(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.rel_url.with_path(request.path + "/"))


async def proxy(request: web.Request) -> web.StreamResponse:
    job = await request.config_dict[JOBS].by_host_label(request.match_info["label"])
    http = job.container.http
    if http is None:
        raise web.HTTPNotFound(reason=f"Job {job.id} exposes no HTTP port")
    if http.requires_auth:
        await _authorize(request, job)
    if job.status is not JobStatus.RUNNING:
        raise web.HTTPBadGateway(reason=f"Job {job.id} is not running")
    address = await request.config_dict[ORCHESTRATOR].ip_address(job.id)
    if address is None:
        raise web.HTTPBadGateway(reason=f"Job {job.id} is not running")
    query = [(k, v) for k, v in request.query.items() if k != TOKEN_QUERY_PARAMETER]
    target = (
        request.url.with_scheme("http")
        .with_host(address)
        .with_port(http.port)
        .with_path("/" + request.match_info["path"])
        .with_query(query)
    )
    headers = CIMultiDict(
        (k, v)
        for k, v in request.headers.items()
        if k.lower() not in _HOP_BY_HOP and k.lower() != hdrs.AUTHORIZATION.lower()
    )
    headers["X-Forwarded-Host"] = request.host
    headers["X-Forwarded-Proto"] = request.scheme
    session = request.app[PROXY_SESSION]
    try:
        async with session.request(
            request.method,
            target,
            headers=headers,
            data=request.content if request.body_exists else None,
            allow_redirects=False,
        ) as upstream:
            response = web.StreamResponse(
                status=upstream.status,
                reason=upstream.reason,
                headers=CIMultiDict(
                    (k, v) for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP
                ),
            )
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
    except aiohttp.ClientConnectionError as e:
        raise web.HTTPBadGateway(reason=f"Job {job.id} does not answer on port {http.port}") from e


async def _authorize(request: web.Request, job: Job) -> None:
    token = request_token(request) or request.cookies.get(TOKEN_QUERY_PARAMETER)
    if token is None:
        raise NotAuthenticatedError("This job's HTTP port needs a platform token")
    user = await request.config_dict[AUTHENTICATOR].user_of(token)
    await request.config_dict[JOBS].get(user, job.id, Action.READ)
