"""Signing in to the console through the platform's own OAuth2 login (docs/protocol.md §2.2-2.4):
`/console/login` sends the browser to `/oauth/authorize` with a PKCE challenge and a state
kept in a short-lived cookie; `/console/callback` checks the state, trades the code for an
access token (the same grant service as `/oauth/token`) and keeps it in the session cookie."""

from __future__ import annotations

import hmac

from aiohttp import web
from pydantic import BaseModel
from yarl import URL

from ..api.keys import GRANTS, SETTINGS
from ..api.openapi import describe
from ..auth.client import CLIENT_ID
from ..auth.grants import InvalidGrantError, pkce_challenge
from .markup import message, page, redirect
from .session import LOGIN_COOKIE, SESSION_COOKIE, new_login, set_cookie

LOGIN_TTL_S = 600
routes = web.RouteTableDef()


class LoginQuery(BaseModel):
    next: str | None = None


class CallbackQuery(BaseModel):
    code: str | None = None
    state: str | None = None


def callback_url(public_url: URL) -> URL:
    return public_url / "console" / "callback"


def _safe_next(value: str | None) -> str:
    """Only a console path: never a redirect to another site after signing in."""
    if value and value.startswith("/console/") and not value.startswith("/console//"):
        return value
    return "/console/jobs"


def _secure(request: web.Request) -> bool:
    return request.config_dict[SETTINGS].public_url.scheme == "https"


@routes.get("/login")
@describe("Sign in to the console (redirects to the OAuth2 login)", query=LoginQuery)
async def login(request: web.Request) -> web.Response:
    public_url = request.config_dict[SETTINGS].public_url
    state, verifier = new_login()
    target = (public_url / "oauth" / "authorize").with_query(
        response_type="code",
        client_id=CLIENT_ID,
        redirect_uri=str(callback_url(public_url)),
        code_challenge=pkce_challenge(verifier),
        code_challenge_method="S256",
        state=state,
    )
    response = redirect(str(target))
    next_path = _safe_next(request.query.get("next"))
    set_cookie(
        response,
        LOGIN_COOKIE,
        f"{state} {verifier} {next_path}",
        max_age=LOGIN_TTL_S,
        secure=_secure(request),
    )
    return response


@routes.get("/callback")
@describe("Where the OAuth2 login returns to the console", query=CallbackQuery)
async def callback(request: web.Request) -> web.Response:
    # "<state> <verifier> <next path>", as `login` set it; absent parts are empty.
    state, verifier, next_path = [*request.cookies.get(LOGIN_COOKIE, "").split(" "), "", ""][:3]
    given_state = request.query.get("state", "")
    if not state or not hmac.compare_digest(state.encode(), given_state.encode()):
        return _refused("The sign-in was not started here, or took too long. Please try again.")
    public_url = request.config_dict[SETTINGS].public_url
    try:
        token = await request.config_dict[GRANTS].exchange_code(
            request.query.get("code", ""),
            client_id=CLIENT_ID,
            redirect_uri=str(callback_url(public_url)),
            code_verifier=verifier,
        )
    except InvalidGrantError as e:
        return _refused(f"The sign-in failed: {e}")
    response = redirect(_safe_next(next_path))
    set_cookie(
        response,
        SESSION_COOKIE,
        token.access_token,
        max_age=token.expires_in,
        secure=_secure(request),
    )
    response.del_cookie(LOGIN_COOKIE, path="/console")
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    """Sign out (forgets the session cookie)"""
    response = redirect("/console/login")
    response.del_cookie(SESSION_COOKIE, path="/console")
    return response


def _refused(text: str) -> web.Response:
    body = message(text, role="alert") + '<p><a href="/console/login">Sign in</a></p>'
    return web.Response(
        text=page("Sign-in failed", body, user=None, csrf=None),
        status=400,
        content_type="text/html",
    )
