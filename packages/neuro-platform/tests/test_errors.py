"""The error middleware: JSON bodies, the statuses of docs/protocol.md §9, never a 500 for bad
input."""

from __future__ import annotations

import aiohttp

from neuro_platform.testing import PlatformServer


async def test_unknown_route_is_json_404_with_service_version(
    platform_server: PlatformServer,
) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(platform_server.api_url / "no-such-thing") as response,
    ):
        assert response.status == 404
        assert response.content_type == "application/json"
        assert await response.json() == {"error": "Not Found"}
        assert response.headers["X-Service-Version"].startswith("neuro-platform/")


async def test_wrong_method_is_json_405(platform_server: PlatformServer) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.delete(platform_server.api_url / "config") as response,
    ):
        assert response.status == 405
        assert "error" in await response.json()
        assert "GET" in response.headers["Allow"]


async def test_bad_json_is_400(platform_server: PlatformServer) -> None:
    headers = {
        "Authorization": f"Bearer {platform_server.issue_token('alice')}",
        "Content-Type": "application/json",
    }
    url = platform_server.api_url / "users" / "alice" / "permissions" / "check"
    async with aiohttp.ClientSession() as client:
        async with client.post(url, data=b"{not json", headers=headers) as response:
            assert response.status == 400
            assert "error" in await response.json()
        async with client.post(url, json={"uri": "x"}, headers=headers) as response:
            assert response.status == 400
            assert "array" in (await response.json())["error"]


async def test_missing_token_on_protected_endpoint_is_401(platform_server: PlatformServer) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(platform_server.api_url / "users" / "alice") as response,
    ):
        assert response.status == 401
        assert await response.json() == {"error": "no bearer token given"}
