"""Secrets API (docs/protocol.md §8.1) on a real server: values go in, never come out."""

from __future__ import annotations

import base64
import io
import json
import stat

import aiohttp

from neuro_platform.testing import PlatformServer

VALUE = b"hunter2-top-secret-value"


def _session(server: PlatformServer, user: str) -> aiohttp.ClientSession:
    token = server.issue_token(user)
    return aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})


async def test_added_secret_is_listed_without_its_value(platform_server: PlatformServer) -> None:
    url = platform_server.api_url / "secrets"
    async with _session(platform_server, "alice") as alice:
        body = {"key": "db-password", "value": base64.b64encode(VALUE).decode()}
        async with alice.post(url, json=body) as response:
            assert response.status == 201
            created = await response.text()
        async with alice.get(url) as response:
            assert response.status == 200
            listed = await response.text()
    assert '"db-password"' in listed
    assert '"owner": "alice"' in listed
    for answer in (created, listed):
        assert "hunter2" not in answer
        assert base64.b64encode(VALUE).decode() not in answer


async def test_values_are_encrypted_at_rest_with_a_private_key(
    platform_server: PlatformServer,
) -> None:
    async with _session(platform_server, "alice") as alice:
        body = {"key": "plain", "value": base64.b64encode(VALUE).decode()}
        async with alice.post(platform_server.api_url / "secrets", json=body) as response:
            assert response.status == 201
    database = (platform_server.data_dir / "platform.db").read_bytes()
    wal = platform_server.data_dir / "platform.db-wal"
    stored = database + (wal.read_bytes() if wal.exists() else b"")
    assert b"plain" in stored  # the key is there...
    assert VALUE not in stored  # ...the value is not
    key_file = platform_server.data_dir / "secrets-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


async def test_remove_then_remove_again_is_not_found(platform_server: PlatformServer) -> None:
    url = platform_server.api_url / "secrets"
    async with _session(platform_server, "alice") as alice:
        await alice.post(url, json={"key": "gone", "value": "eA=="})
        async with alice.delete(url / "gone") as response:
            assert response.status == 204
        async with alice.delete(url / "gone") as response:
            assert response.status == 404
            assert "gone" in (await response.json())["error"]
        async with alice.get(url) as response:
            assert await response.json() == []


async def test_other_users_neither_see_nor_remove_a_secret(
    platform_server: PlatformServer,
) -> None:
    url = platform_server.api_url / "secrets"
    async with _session(platform_server, "alice") as alice:
        await alice.post(url, json={"key": "mine", "value": "eA=="})
    async with _session(platform_server, "bob") as bob:
        async with bob.get(url) as response:
            assert await response.json() == []
        async with bob.delete(url / "mine") as response:  # names bob's own (missing) key
            assert response.status == 404
    async with _session(platform_server, "alice") as alice, alice.get(url) as response:
        assert [s["key"] for s in await response.json()] == ["mine"]


async def test_malformed_secrets_are_refused(platform_server: PlatformServer) -> None:
    url = platform_server.api_url / "secrets"
    async with _session(platform_server, "alice") as alice:
        for body in (
            {"key": "..", "value": "eA=="},
            {"key": "has space", "value": "eA=="},
            {"key": "k" * 254, "value": "eA=="},
            {"key": "ok", "value": "not base64!"},
            {"key": "ok"},
        ):
            async with alice.post(url, json=body) as response:
                assert response.status == 400, body
        too_big = json.dumps({"key": "big", "value": base64.b64encode(bytes(1024**2 + 1)).decode()})
        async with alice.post(url, data=io.BytesIO(too_big.encode())) as response:
            assert response.status in (400, 413)  # over 1 MiB: refused before or after parsing
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as response:
        assert response.status == 401


async def test_no_org_has_one_meaning_whatever_its_spelling(
    platform_server: PlatformServer,
) -> None:
    # Clients write "no org" as null, "" or "NO_ORG": all three are the same secret folder,
    # never an org named "NO_ORG".
    url = platform_server.api_url / "secrets"
    async with _session(platform_server, "alice") as alice:
        for spelling, key in ((None, "k-null"), ("", "k-empty"), ("NO_ORG", "k-no-org")):
            body = {"key": key, "value": "eA==", "org_name": spelling}
            async with alice.post(url, json=body) as response:
                assert response.status == 201, await response.text()
                assert (await response.json())["org_name"] is None
        async with alice.get(url, params={"org_name": "NO_ORG"}) as response:
            assert response.status == 200
            listed = await response.json()
    assert sorted((s["key"], s["org_name"]) for s in listed) == [
        ("k-empty", None),
        ("k-no-org", None),
        ("k-null", None),
    ]
