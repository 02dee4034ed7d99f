"""OAuth2 authorization code flow with PKCE, headless variant and refresh (docs/protocol.md
§2.2-2.4)."""

import asyncio
import base64
import hashlib
import secrets
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from yarl import URL

from ._auth_token import _AuthToken
from ._core import _Core
from ._errors import AuthError
from ._server_cfg import _AuthConfig

# Every client imports this module (for refresh_token), few of them log in: PyJWT (with
# cryptography) and aiohttp's server side are imported by the functions that need them.
if TYPE_CHECKING:
    from aiohttp import web

CALLBACK_WAIT_S = 60.0
# The standalone shortcut's token is never refreshed: give it a century.
STANDALONE_LIFETIME_S = 100 * 365 * 24 * 3600
_CALLBACK_ERROR_STATUSES = {"unauthorized": 401, "access_denied": 403}


@dataclass(frozen=True)
class _PKCE:
    verifier: str
    challenge: str

    @classmethod
    def generate(cls) -> "_PKCE":
        verifier = _urlsafe_b64(secrets.token_bytes(32))
        challenge = _urlsafe_b64(hashlib.sha256(verifier.encode("ascii")).digest())
        return cls(verifier, challenge)


def _urlsafe_b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def authorize_url(config: _AuthConfig, pkce: _PKCE, redirect_uri: URL) -> URL:
    return config.auth_url.with_query(
        response_type="code",
        code_challenge=pkce.challenge,
        code_challenge_method="S256",
        client_id=config.client_id,
        redirect_uri=str(redirect_uri),
        scope="offline_access",
        audience=config.audience,
    )


def standalone_token() -> _AuthToken:
    """The token a server without auth expects (docs/protocol.md §2.2 step 1)."""
    # The protocol fixes this short, public secret: the token proves nothing and a
    # standalone server does not check it, so PyJWT's key-length warning does not apply.
    import jwt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        token = jwt.encode({"https://platform.neuromation.io/user": "user"}, "neuro", "HS256")
    return _AuthToken(token, time.time() + STANDALONE_LIFETIME_S)


async def _post_token_request(core: _Core, config: _AuthConfig, form: dict[str, str]) -> Any:
    async with core.request(
        "POST",
        config.token_url,
        data=form,
        headers={"Accept": "application/json"},
        check=False,
    ) as response:
        if response.status >= 300:
            raise AuthError("failed to get an access token.")
        return await response.json()


async def exchange_code(
    core: _Core, config: _AuthConfig, code: str, pkce: _PKCE, redirect_uri: URL
) -> _AuthToken:
    payload = await _post_token_request(
        core,
        config,
        {
            "grant_type": "authorization_code",
            "code_verifier": pkce.verifier,
            "code": code,
            "client_id": config.client_id,
            "redirect_uri": str(redirect_uri),
        },
    )
    try:
        return _AuthToken.create(
            payload["access_token"], float(payload["expires_in"]), payload["refresh_token"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AuthError("failed to get an access token.") from exc


async def refresh_token(core: _Core, config: _AuthConfig, token: _AuthToken) -> _AuthToken:
    """A fresh access token; the refresh token itself stays the same."""
    if not token.refresh_token:
        raise AuthError("The token has expired and cannot be refreshed. Please login again.")
    payload = await _post_token_request(
        core,
        config,
        {
            "grant_type": "refresh_token",
            "refresh_token": token.refresh_token,
            "client_id": config.client_id,
        },
    )
    try:
        return _AuthToken.create(
            payload["access_token"], float(payload["expires_in"]), token.refresh_token
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AuthError("failed to refresh the access token.") from exc


class _CallbackReceiver:
    """The local page the browser is redirected to with ``?code=...``."""

    def __init__(self, success_redirect_url: URL | None) -> None:
        self._success_redirect_url = success_redirect_url
        self.code: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handle(self, request: "web.Request") -> "web.StreamResponse":
        from aiohttp import web

        error = request.query.get("error")
        if error is not None:
            description = request.query.get("error_description", error)
            self._settle_error(AuthError(description))
            raise _http_error(_CALLBACK_ERROR_STATUSES.get(error, 400), description)
        code = request.query.get("code")
        if not code:
            self._settle_error(AuthError("The authorization server returned no code"))
            raise web.HTTPBadRequest(text="The 'code' query parameter is missing")
        if not self.code.done():
            self.code.set_result(code)
        if self._success_redirect_url is not None:
            raise web.HTTPFound(self._success_redirect_url)
        return web.Response(text="OK")

    def _settle_error(self, error: AuthError) -> None:
        if not self.code.done():
            self.code.set_exception(error)


def _http_error(status: int, text: str) -> "web.HTTPException":
    from aiohttp import web

    if status == 401:
        return web.HTTPUnauthorized(text=text)
    if status == 403:
        return web.HTTPForbidden(text=text)
    return web.HTTPBadRequest(text=text)


@asynccontextmanager
async def _callback_server(
    receiver: _CallbackReceiver, callback_urls: tuple[URL, ...]
) -> AsyncIterator[URL]:
    """Listen on the first callback URL whose port is free; yield that URL."""
    from aiohttp import web

    app = web.Application()
    app.router.add_get("/", receiver.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0)
    await runner.setup()
    try:
        for url in callback_urls:
            site = web.TCPSite(runner, url.host, url.port)
            try:
                await site.start()
            except OSError:
                continue
            yield url
            return
        raise AuthError(
            "No free local port for the login callback: "
            + ", ".join(str(url) for url in callback_urls)
        )
    finally:
        await runner.cleanup()


async def browser_login(
    core: _Core, config: _AuthConfig, show_browser_cb: Callable[[URL], Awaitable[None]]
) -> _AuthToken:
    pkce = _PKCE.generate()
    receiver = _CallbackReceiver(config.success_redirect_url)
    async with _callback_server(receiver, config.callback_urls) as redirect_uri:
        await show_browser_cb(authorize_url(config, pkce, redirect_uri))
        try:
            async with asyncio.timeout(CALLBACK_WAIT_S):
                code = await receiver.code
        except TimeoutError as exc:
            raise AuthError("Timed out waiting for the browser login") from exc
    return await exchange_code(core, config, code, pkce, redirect_uri)


async def headless_login(
    core: _Core, config: _AuthConfig, get_auth_code_cb: Callable[[URL], Awaitable[str]]
) -> _AuthToken:
    pkce = _PKCE.generate()
    redirect_uri = config.headless_callback_url
    code = (await get_auth_code_cb(authorize_url(config, pkce, redirect_uri))).strip()
    if not code:
        raise AuthError("No authorization code was entered")
    return await exchange_code(core, config, code, pkce, redirect_uri)
