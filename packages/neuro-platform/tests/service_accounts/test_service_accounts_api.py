"""Service accounts API (docs/protocol.md §8.3): a token handed out once, revoked by `rm`."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp

from neuro_platform.testing import PlatformServer


def _session(server: PlatformServer, token: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})


async def _create(server: PlatformServer, session: aiohttp.ClientSession, **body: Any) -> Any:
    url = server.api_url / "service_accounts"
    async with session.post(url, json={"default_cluster": "default", **body}) as response:
        assert response.status == 201, await response.text()
        return await response.json()


async def test_token_works_until_the_account_is_removed(platform_server: PlatformServer) -> None:
    url = platform_server.api_url / "service_accounts"
    async with _session(platform_server, platform_server.issue_token("alice")) as alice:
        account = await _create(platform_server, alice, name="ci")
        assert account["role"] == "alice/service-accounts/ci"
        assert account["owner"] == "alice"
        assert account["role_deleted"] is False
        passed = json.loads(base64.b64decode(account["token"]))
        assert passed["cluster"] == "default"
        assert passed["url"] == str(platform_server.api_url)
        async with _session(platform_server, passed["token"]) as robot:
            async with robot.get(platform_server.api_url / "config") as response:
                config = await response.json()
            assert config["authorized"] is True
            async with robot.get(platform_server.api_url / "jobs") as response:
                assert response.status == 200
            async with alice.delete(url / "ci") as response:
                assert response.status == 204
            async with robot.get(platform_server.api_url / "jobs") as response:
                assert response.status == 401
            async with robot.get(platform_server.api_url / "config") as response:
                assert (await response.json())["authorized"] is False


async def test_list_get_and_the_token_only_once(platform_server: PlatformServer) -> None:
    url = platform_server.api_url / "service_accounts"
    async with _session(platform_server, platform_server.issue_token("alice")) as alice:
        named = await _create(platform_server, alice, name="deploy")
        unnamed = await _create(platform_server, alice, name=None)
        assert unnamed["name"] is None
        assert unnamed["role"].startswith("alice/service-accounts/")
        async with alice.get(url) as response:
            listed = await response.json()
        assert [a["id"] for a in listed] == [named["id"], unnamed["id"]]
        assert all("token" not in a for a in listed)
        async with alice.get(url, headers={"Accept": "application/x-ndjson"}) as response:
            assert response.content_type == "application/x-ndjson"
            lines = [json.loads(line) async for line in response.content if line.strip()]
        assert [a["id"] for a in lines] == [named["id"], unnamed["id"]]
        for key in (named["id"], "deploy"):
            async with alice.get(url / key) as response:
                got = await response.json()
            assert got["id"] == named["id"]
            assert "token" not in got
    async with _session(platform_server, platform_server.issue_token("bob")) as bob:
        async with bob.get(url) as response:
            assert await response.json() == []
        async with bob.get(url / named["id"]) as response:
            assert response.status == 404
        async with bob.delete(url / "deploy") as response:
            assert response.status == 404


async def test_duplicates_and_bad_names_are_refused(platform_server: PlatformServer) -> None:
    url = platform_server.api_url / "service_accounts"
    async with _session(platform_server, platform_server.issue_token("alice")) as alice:
        await _create(platform_server, alice, name="dup")
        async with alice.post(url, json={"name": "dup", "default_cluster": "default"}) as r:
            assert r.status == 409
            assert (await r.json())["code"] == "unique_violation"
        for body in (
            {"name": "Not_DNS", "default_cluster": "default"},
            {"name": "ok", "default_cluster": "no-such-cluster"},
        ):
            async with alice.post(url, json=body) as response:
                assert response.status == 400, body
