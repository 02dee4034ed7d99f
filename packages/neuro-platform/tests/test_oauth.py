"""OAuth2 authorization code + PKCE through real HTTP, as the SDK's login drives it."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from neuro_platform.testing import PlatformServer, running_platform
from neuro_platform.testing.fixtures import USERS

CALLBACK = "http://127.0.0.1:54540"


@dataclass
class Pkce:
    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    digest = hashlib.sha256(verifier.encode()).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


def authorize_params(pkce: Pkce, redirect_uri: str = CALLBACK) -> dict[str, str]:
    return {
        "response_type": "code",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "client_id": "neuro-cli",
        "redirect_uri": redirect_uri,
        "scope": "offline_access",
        "audience": "http://127.0.0.1",
    }


@pytest.fixture
def platform_server(shared_platform_server: PlatformServer) -> PlatformServer:
    """One server for the module: a test that changes an account's state (its refresh tokens,
    its failed logins) does so to an account of its own (`own_user`); the throttling test
    has a server of its own, with a lower allowance."""
    return shared_platform_server


def own_user(server: PlatformServer) -> tuple[str, str]:
    """A new account on `server`: (name, password)."""
    name = f"oauth-{uuid.uuid4().hex[:8]}"
    server.create_user(name, f"{name}-password")
    return name, f"{name}-password"


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def log_in(
    client: aiohttp.ClientSession,
    server: PlatformServer,
    pkce: Pkce,
    *,
    password: str = "alice-password",
    redirect_uri: str = CALLBACK,
    user: str = "alice",
) -> aiohttp.ClientResponse:
    form = {**authorize_params(pkce, redirect_uri), "username": user, "password": password}
    async with client.post(
        server.base_url / "oauth" / "authorize", data=form, allow_redirects=False
    ) as response:
        await response.read()
        return response


async def code_from_login(
    client: aiohttp.ClientSession,
    server: PlatformServer,
    pkce: Pkce,
    redirect_uri: str = CALLBACK,
    *,
    user: tuple[str, str] = ("alice", "alice-password"),
) -> str:
    name, password = user
    response = await log_in(
        client, server, pkce, redirect_uri=redirect_uri, user=name, password=password
    )
    assert response.status == 302
    location = URL(response.headers["Location"])
    assert str(location.with_query(None)).rstrip("/") == redirect_uri
    return location.query["code"]


async def exchange(
    client: aiohttp.ClientSession, server: PlatformServer, code: str, verifier: str
) -> tuple[int, dict[str, Any]]:
    form = {
        "grant_type": "authorization_code",
        "code_verifier": verifier,
        "code": code,
        "client_id": "neuro-cli",
        "redirect_uri": CALLBACK,
    }
    async with client.post(server.base_url / "oauth" / "token", data=form) as response:
        return response.status, await response.json()


async def refresh(
    client: aiohttp.ClientSession, server: PlatformServer, refresh_token: str
) -> tuple[int, dict[str, Any]]:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "neuro-cli"}
    async with client.post(server.base_url / "oauth" / "token", data=form) as response:
        return response.status, await response.json()


async def authorized(client: aiohttp.ClientSession, server: PlatformServer, token: str) -> bool:
    headers = {"Authorization": f"Bearer {token}"}
    async with client.get(server.api_url / "config", headers=headers) as response:
        return bool((await response.json())["authorized"])


async def test_login_form_carries_the_request(
    client: aiohttp.ClientSession, platform_server: PlatformServer
) -> None:
    pkce = new_pkce()
    async with client.get(
        platform_server.base_url / "oauth" / "authorize", params=authorize_params(pkce)
    ) as response:
        assert response.status == 200
        page = await response.text()
    assert 'name="password"' in page
    assert f'name="code_challenge" value="{pkce.challenge}"' in page
    assert f'name="redirect_uri" value="{CALLBACK}"' in page


async def test_pkce_flow_gives_working_tokens(
    client: aiohttp.ClientSession, platform_server: PlatformServer
) -> None:
    user = own_user(platform_server)  # its refresh tokens are revoked below
    pkce = new_pkce()
    code = await code_from_login(client, platform_server, pkce, user=user)
    status, tokens = await exchange(client, platform_server, code, pkce.verifier)
    assert status == 200
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] > 0
    assert await authorized(client, platform_server, tokens["access_token"])

    # A code works once.
    status, error = await exchange(client, platform_server, code, pkce.verifier)
    assert (status, error["error"]) == (400, "invalid_grant")

    status, refreshed = await refresh(client, platform_server, tokens["refresh_token"])
    assert status == 200
    assert "refresh_token" not in refreshed
    assert await authorized(client, platform_server, refreshed["access_token"])

    platform_server.admin("token", "revoke-refresh", user[0])
    status, error = await refresh(client, platform_server, tokens["refresh_token"])
    assert (status, error["error"]) == (400, "invalid_grant")


async def test_wrong_verifier_is_refused(
    client: aiohttp.ClientSession, platform_server: PlatformServer
) -> None:
    pkce = new_pkce()
    code = await code_from_login(client, platform_server, pkce)
    status, error = await exchange(client, platform_server, code, new_pkce().verifier)
    assert status == 400
    assert error["error"] == "invalid_grant"
    assert "code_verifier" in error["error_description"]


async def test_unknown_refresh_token_is_refused(
    client: aiohttp.ClientSession, platform_server: PlatformServer
) -> None:
    status, error = await refresh(client, platform_server, "made-up")
    assert (status, error["error"]) == (400, "invalid_grant")


async def test_wrong_password_shows_the_form_again_without_a_code(
    client: aiohttp.ClientSession, platform_server: PlatformServer
) -> None:
    name, _ = own_user(platform_server)  # a failed login counts towards throttling the account
    response = await log_in(client, platform_server, new_pkce(), user=name, password="guess")
    assert response.status == 401
    assert "Location" not in response.headers


async def test_failed_logins_are_throttled_per_user_and_address(
    client: aiohttp.ClientSession, tmp_path: Path
) -> None:
    config = {"auth": {"login_failures": "3 per 1 minute"}}
    with running_platform(tmp_path, config=config, users=USERS) as server:
        guesses = [await log_in(client, server, new_pkce(), password="guess") for _ in range(3)]
        # Over the allowance even the right password is not checked, and the form says so.
        throttled = await log_in(client, server, new_pkce())
        throttled_page = html.unescape(await throttled.text())
        # Another account from the same address has its own allowance.
        bob = await log_in(client, server, new_pkce(), user="bob", password="bob-password")

    assert [r.status for r in guesses] == [401, 401, 401]
    assert throttled.status == 429
    assert "Location" not in throttled.headers
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert "Too many failed logins" in throttled_page
    assert bob.status == 302


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/callback",
        "http://evil.example.com:54540",
        "http://127.0.0.1:54540/steal?x=1",
        "http://127.0.0.1",
    ],
)
async def test_foreign_redirect_uri_is_refused(
    client: aiohttp.ClientSession, platform_server: PlatformServer, redirect_uri: str
) -> None:
    pkce = new_pkce()
    async with client.get(
        platform_server.base_url / "oauth" / "authorize",
        params=authorize_params(pkce, redirect_uri),
        allow_redirects=False,
    ) as response:
        assert response.status == 400
    response = await log_in(client, platform_server, pkce, redirect_uri=redirect_uri)
    assert response.status == 400
    assert "Location" not in response.headers


async def test_headless_login_shows_the_code_escaped(
    client: aiohttp.ClientSession, platform_server: PlatformServer
) -> None:
    show_code = str(platform_server.base_url / "oauth" / "show-code")
    pkce = new_pkce()
    code = await code_from_login(client, platform_server, pkce, redirect_uri=show_code)
    async with client.get(show_code, params={"code": code}) as response:
        page = await response.text()
    match = re.search(r'<pre id="code">(.*?)</pre>', page)
    assert match is not None
    assert html.unescape(match.group(1)) == code

    async with client.get(show_code, params={"code": "<script>alert(1)</script>"}) as response:
        page = await response.text()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


async def test_info_pages(client: aiohttp.ClientSession, platform_server: PlatformServer) -> None:
    for path, words in (("logout", "logged out"), ("login-done", "close this tab")):
        async with client.get(platform_server.base_url / "oauth" / path) as response:
            assert response.status == 200
            assert words in await response.text()
