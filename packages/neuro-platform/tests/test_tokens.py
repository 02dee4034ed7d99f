"""Access tokens are verified on every request: forged, expired and `alg: none` ones fail."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import jwt
import pytest

from neuro_platform.testing import PlatformServer


@pytest.fixture
def platform_server(shared_platform_server: PlatformServer) -> PlatformServer:
    """One server for the module: only the removal test changes an account, and it removes
    one of its own."""
    return shared_platform_server


def signing_key(server: PlatformServer) -> bytes:
    return bytes.fromhex((server.data_dir / "jwt-signing-key").read_text())


def claims(user: str, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sub": user,
        "identity": user,
        "https://platform.neuromation.io/user": user,
        "iat": now,
        "exp": now + timedelta(hours=1),
        "jti": "test",
        **overrides,
    }


def unsigned(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data, default=lambda d: int(d.timestamp())).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


async def status_and_authorized(server: PlatformServer, token: str) -> tuple[int, bool]:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as client:
        async with client.get(server.api_url / "users" / "alice", headers=headers) as response:
            status = response.status
            if status == 401:
                assert "error" in await response.json()
        async with client.get(server.api_url / "config", headers=headers) as response:
            assert response.status == 200
            authorized = (await response.json())["authorized"]
    return status, authorized


async def test_issued_token_is_accepted_by_header_and_query(
    platform_server: PlatformServer,
) -> None:
    token = platform_server.issue_token("alice")
    assert jwt.decode(token, options={"verify_signature": False})["identity"] == "alice"
    assert await status_and_authorized(platform_server, token) == (200, True)
    async with (
        aiohttp.ClientSession() as client,
        client.get(
            platform_server.api_url / "users" / "alice", params={"neuro-auth-token": token}
        ) as response,
    ):
        assert response.status == 200
        assert await response.json() == {"name": "alice"}


@pytest.mark.parametrize("kind", ["expired", "wrong-key", "tampered", "alg-none", "garbage"])
async def test_bad_tokens_get_401_and_unauthorized_config(
    platform_server: PlatformServer, kind: str
) -> None:
    key = signing_key(platform_server)
    past = datetime.now(UTC) - timedelta(hours=2)
    if kind == "expired":
        token = jwt.encode(claims("alice", iat=past, exp=past + timedelta(hours=1)), key, "HS256")
    elif kind == "wrong-key":
        token = jwt.encode(claims("alice"), b"x" * 32, "HS256")
    elif kind == "tampered":
        header, _, signature = platform_server.issue_token("bob").split(".")
        payload = base64.urlsafe_b64encode(json.dumps(claims("alice"), default=str).encode())
        token = f"{header}.{payload.rstrip(b'=').decode()}.{signature}"
    elif kind == "alg-none":
        token = unsigned(claims("alice"))
    else:
        token = "not-a-jwt"
    assert await status_and_authorized(platform_server, token) == (401, False)


async def test_removed_users_token_stops_working(platform_server: PlatformServer) -> None:
    name = f"gone-{uuid.uuid4().hex[:8]}"
    platform_server.create_user(name, "gone-password")
    token = platform_server.issue_token(name)
    platform_server.admin("user", "remove", name)
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as client,
        client.get(platform_server.api_url / "users" / name, headers=headers) as response,
    ):
        assert response.status == 401


async def test_user_cannot_read_another_users_record(platform_server: PlatformServer) -> None:
    headers = {"Authorization": f"Bearer {platform_server.issue_token('bob')}"}
    async with (
        aiohttp.ClientSession() as client,
        client.get(platform_server.api_url / "users" / "alice", headers=headers) as response,
    ):
        assert response.status == 403
        assert await response.json() == {"missing": [{"uri": "role://alice", "action": "manage"}]}


async def test_permission_check_endpoint(platform_server: PlatformServer) -> None:
    headers = {"Authorization": f"Bearer {platform_server.issue_token('alice')}"}
    url = platform_server.api_url / "users" / "alice" / "permissions" / "check"
    own = {"uri": "storage://default/alice/data", "action": "write"}
    foreign = {"uri": "storage://default/bob/data", "action": "read"}
    async with aiohttp.ClientSession() as client:
        async with client.post(url, json=[own], headers=headers) as response:
            assert response.status == 200
            assert await response.json() == {"missing": []}
        async with client.post(url, json=[own, foreign], headers=headers) as response:
            assert response.status == 403
            assert await response.json() == {"missing": [foreign]}
        async with client.post(
            url, json=[{"uri": "bogus", "action": "read"}], headers=headers
        ) as response:
            assert response.status == 400
