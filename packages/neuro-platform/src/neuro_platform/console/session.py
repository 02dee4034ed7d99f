"""Who is signed in to the console, and the CSRF token that goes with it.

The session cookie holds the platform access token the OAuth2 login produced (docs/protocol.md
§2.2-2.4), so a session ends when the token does and a removed account's session ends at once
(the token is checked like every API token, `auth/identity.py`). The cookie is `HttpOnly` (no
script reads it) and `SameSite=Strict` (no other site's page makes the browser send it).

The CSRF token is derived from the session token, `sha256(label || token)`: a page of another
origin can neither read the cookie nor the pages that carry the derived token, and the token
cannot be turned back into the session token. Requests signed in with `Authorization: Bearer`
carry no ambient credential a foreign page could borrow, so they need no CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from aiohttp import web

SESSION_COOKIE = "neuro-console"
LOGIN_COOKIE = "neuro-console-login"  # state and PKCE verifier of a login under way
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
_CSRF_LABEL = b"neuro-console-csrf\0"


@dataclass(frozen=True)
class Credentials:
    token: str
    # Whether the token came from the cookie (a browser session), not an Authorization header.
    from_cookie: bool

    @property
    def csrf_token(self) -> str:
        return csrf_token_of(self.token)


def csrf_token_of(token: str) -> str:
    digest = hashlib.sha256(_CSRF_LABEL + token.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def credentials(request: web.Request) -> Credentials | None:
    """The bearer header wins over the cookie: scripts sign in with it."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return Credentials(token.strip(), from_cookie=False)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return Credentials(cookie, from_cookie=True)
    return None


def csrf_valid(request: web.Request, creds: Credentials, form_token: str | None) -> bool:
    """The token of the form field or the header matches the session's (constant time)."""
    given = form_token or request.headers.get(CSRF_HEADER) or ""
    return hmac.compare_digest(given.encode(), creds.csrf_token.encode())


def new_login() -> tuple[str, str]:
    """A fresh OAuth2 `state` and PKCE verifier (43+ characters of URL-safe base64)."""
    return secrets.token_urlsafe(24), secrets.token_urlsafe(48)


def set_cookie(
    response: web.StreamResponse, name: str, value: str, *, max_age: int, secure: bool
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )
