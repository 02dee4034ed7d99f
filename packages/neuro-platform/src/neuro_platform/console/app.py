"""The console sub-application at `/console`, and `/` sending browsers to it.

One middleware signs every request in (session cookie or Bearer header, checked by the same
authenticator as the API), refuses state-changing requests without the session's CSRF token
or from another origin, answers failures as HTML pages with the API's statuses
(`api/errors.py`), and adds the security headers of `markup.HEADERS` to every answer.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler
from yarl import URL

from ..api.errors import status_and_body
from ..api.keys import AUTHENTICATOR, SETTINGS
from ..auth.identity import NotAuthenticatedError
from . import (
    buckets_handler,
    jobs_handler,
    login_handler,
    resources_handler,
    static,
    storage_handler,
)
from .context import Caller, set_caller
from .markup import HEADERS, message, page
from .session import CSRF_FIELD, credentials, csrf_valid

PREFIX = "/console"
# Reachable without signing in.
_PUBLIC = (f"{PREFIX}/login", f"{PREFIX}/callback", f"{PREFIX}/static/")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def mount_console(app: web.Application) -> None:
    console = web.Application(middlewares=[_console_middleware])
    console.add_routes(login_handler.routes)
    console.add_routes(static.routes)
    console.add_routes(jobs_handler.routes)
    console.add_routes(storage_handler.routes)
    console.add_routes(resources_handler.routes)
    console.add_routes(buckets_handler.routes)
    app.add_subapp(PREFIX, console)
    app.router.add_get("/", _root)


async def _root(request: web.Request) -> web.Response:
    """The console's front page."""
    raise web.HTTPFound(f"{PREFIX}/jobs")


@web.middleware
async def _console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if not request.path.startswith(_PUBLIC):
            await _sign_in(request)
        response = await handler(request)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        response = _error_page(request, e.status, e.reason)
    except NotAuthenticatedError:
        if request.method in _SAFE_METHODS and not request.headers.get("HX-Request"):
            raise web.HTTPFound(URL(f"{PREFIX}/login").with_query(next=request.path_qs)) from None
        response = _error_page(request, 401, "Please sign in again.")
    except Exception as e:  # the API's mapping of failures, as a page
        status, body = status_and_body(e)
        if status >= 500:
            raise  # the root middleware logs it and answers 500
        response = _error_page(request, status, _text(body))
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _sign_in(request: web.Request) -> None:
    creds = credentials(request)
    if creds is None:
        raise NotAuthenticatedError("not signed in")
    name = await request.config_dict[AUTHENTICATOR].user_of(creds.token)
    if request.method not in _SAFE_METHODS and creds.from_cookie:
        _require_same_origin(request)
        form_token = None
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            field = (await request.post()).get(CSRF_FIELD)
            form_token = field if isinstance(field, str) else None
        if not csrf_valid(request, creds, form_token):
            raise web.HTTPForbidden(
                reason="The form is stale or came from another site (CSRF token)"
            )
    set_caller(request, Caller(name, creds.csrf_token if creds.from_cookie else None))


def _require_same_origin(request: web.Request) -> None:
    """Browsers name the origin of every cross-origin POST: one that is not ours is refused
    even before the CSRF token is looked at."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    public = request.config_dict[SETTINGS].public_url
    own = {str(public.origin()), f"{request.scheme}://{request.host}"}
    if origin not in own:
        raise web.HTTPForbidden(reason=f"Requests from {origin} are refused (another origin)")


def _text(body: object) -> str:
    if isinstance(body, dict):
        if "error" in body:
            return str(body["error"])
        if "description" in body:
            return str(body["description"])
        if "missing" in body:
            missing = ", ".join(f"{m['action']} on {m['uri']}" for m in body["missing"])
            return f"Permission denied: you need {missing}"
    return str(body)


def _error_page(request: web.Request, status: int, text: str) -> web.Response:
    title = {401: "Not signed in", 403: "Refused", 404: "Not found"}.get(status, "Error")
    body = message(text, role="alert") + '<p><a href="/console/jobs">Back to the jobs</a></p>'
    return web.Response(
        text=page(title, body, user=None, csrf=None), status=status, content_type="text/html"
    )
