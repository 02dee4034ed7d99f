"""The reverse proxy to jobs' HTTP ports, by host: `<job id | name--owner>.<http domain>`.

Each job is an origin of its own, apart from the platform's, so a job's pages can neither read
nor frame the platform's, nor touch its cookies. Whatever a job's `http.requires_auth`, the
platform's credentials never reach the job: `Authorization`, the `neuro-auth-token` query
parameter and the platform's cookies are stripped, and a job's `Set-Cookie` for those names
is dropped (see `cookies.py`).

A job with `requires_auth` wants a platform token with `read` on it: the `Authorization`
header (API clients), or once as `?neuro-auth-token=` (browsers: a GET then answers 303 to the
same URL without the token and sets the host's `neuro-job-auth` cookie, so the token leaves
the address bar, the history and later `Referer`s), then that cookie.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import hdrs, web
from multidict import CIMultiDict, CIMultiDictProxy

from ..api.access_log import redact_token
from ..api.errors import BadGatewayError
from ..api.keys import AUTHENTICATOR, SETTINGS
from ..auth.identity import TOKEN_QUERY_PARAMETER, NotAuthenticatedError, request_token
from ..errors import NotFoundError
from ..jobs.entities import Job, JobStatus
from ..jobs.host_names import job_label
from ..jobs.keys import JOBS
from ..jobs.service import JobLookupError
from ..monitoring.keys import MONITORING
from ..permissions.actions import Action
from .cookies import PROXY_COOKIE, sets_platform_cookie, without_platform_cookies

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
# Request headers rebuilt below rather than passed on as the browser sent them.
_REWRITTEN = frozenset(h.lower() for h in (hdrs.AUTHORIZATION, hdrs.COOKIE, hdrs.REFERER))
# Methods a token in the query is traded for the cookie on (a redirect repeats them safely).
_REDIRECTABLE = frozenset({hdrs.METH_GET, hdrs.METH_HEAD})


def create_proxy_app() -> web.Application:
    """Mounted with `add_domain("*.<http domain>", ...)`: every path on a job host is the job's."""
    app = web.Application()
    app.cleanup_ctx.append(_client_session)
    app.router.add_route("*", "/{path:.*}", proxy)
    return app


async def _client_session(app: web.Application) -> AsyncIterator[None]:
    # No overall timeout: a job may stream a long answer.
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=None, connect=10), auto_decompress=False
    ) as session:
        app[PROXY_SESSION] = session
        yield


async def proxy(request: web.Request) -> web.StreamResponse:
    settings = request.config_dict[SETTINGS]
    label = job_label(request.host, settings.jobs.http_domain)
    if label is None:
        raise JobLookupError(f"No job is served at {request.host!r}")
    job = await request.config_dict[JOBS].by_host_label(label)
    http = job.spec.container.http
    if http is None:
        raise NotFoundError(f"Job {job.id} exposes no HTTP port")
    if http.requires_auth:
        token = await _authorize(request, job)
        if request.method in _REDIRECTABLE and token == request.query.get(TOKEN_QUERY_PARAMETER):
            return _trade_query_token_for_cookie(request, token, settings.public_url.scheme)
    if job.status is not JobStatus.RUNNING:
        raise BadGatewayError(f"Job {job.id} is not running")
    address = await request.config_dict[MONITORING].address(job)
    if address is None:
        raise BadGatewayError(f"Job {job.id} is not running")
    target = (
        request.url.with_scheme("http")
        .with_host(address)
        .with_port(http.port)
        .with_query(_query_without_token(request))
    )
    session = request.app[PROXY_SESSION]
    try:
        async with session.request(
            request.method,
            target,
            headers=_upstream_headers(request),
            data=request.content if request.body_exists else None,
            allow_redirects=False,
        ) as upstream:
            response = web.StreamResponse(
                status=upstream.status,
                reason=upstream.reason,
                headers=_downstream_headers(upstream.headers),
            )
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
    except aiohttp.ClientConnectionError as e:
        raise BadGatewayError(f"Job {job.id} does not answer on port {http.port}") from e


async def _authorize(request: web.Request, job: Job) -> str:
    """The token that may read the job (else 401/403); the platform's own `neuro-auth-token`
    cookie is not looked at: it belongs to the platform's origin, never to a job's."""
    token = request_token(request) or request.cookies.get(PROXY_COOKIE)
    if token is None:
        raise NotAuthenticatedError(
            "This job's HTTP port needs a platform token: open it once with "
            f"?{TOKEN_QUERY_PARAMETER}=<token> (`neuro config show-token`)"
        )
    user = await request.config_dict[AUTHENTICATOR].user_of(token)
    await request.config_dict[JOBS].get(user, job.id, Action.READ)
    return token


def _trade_query_token_for_cookie(request: web.Request, token: str, scheme: str) -> web.Response:
    response = web.Response(
        status=303,
        headers={
            hdrs.LOCATION: str(request.rel_url.with_query(_query_without_token(request))),
            hdrs.CACHE_CONTROL: "no-store",
        },
    )
    # Host-only (no Domain): other jobs' hosts under the same domain never receive it.
    response.set_cookie(
        PROXY_COOKIE, token, path="/", httponly=True, samesite="Lax", secure=scheme == "https"
    )
    return response


def _query_without_token(request: web.Request) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.query.items() if k != TOKEN_QUERY_PARAMETER]


def _upstream_headers(request: web.Request) -> CIMultiDict[str]:
    headers = CIMultiDict(
        (k, v)
        for k, v in request.headers.items()
        if k.lower() not in _HOP_BY_HOP and k.lower() not in _REWRITTEN
    )
    for cookie_header in request.headers.getall(hdrs.COOKIE, []):
        if (kept := without_platform_cookies(cookie_header)) is not None:
            headers.add(hdrs.COOKIE, kept)
    if (referer := request.headers.get(hdrs.REFERER)) is not None:
        headers[hdrs.REFERER] = redact_token(referer)
    headers["X-Forwarded-Host"] = request.host
    headers["X-Forwarded-Proto"] = request.scheme
    return headers


def _downstream_headers(upstream: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    return CIMultiDict(
        (k, v)
        for k, v in upstream.items()
        if k.lower() not in _HOP_BY_HOP
        and not (k.lower() == hdrs.SET_COOKIE.lower() and sets_platform_cookie(v))
    )
