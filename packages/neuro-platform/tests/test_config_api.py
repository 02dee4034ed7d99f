"""`GET /api/v1/config` and `/ping` against a real server subprocess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from neuro_platform.testing import PlatformServer, running_platform


async def get_config(server: PlatformServer, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as client,
        client.get(server.api_url / "config", headers=headers) as response,
    ):
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def test_ping_answers_pong(platform_server: PlatformServer) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(platform_server.api_url / "ping") as response,
    ):
        assert response.status == 200
        assert await response.text() == "Pong"


async def test_config_without_token_has_auth_fields_only(platform_server: PlatformServer) -> None:
    config = await get_config(platform_server)
    base = str(platform_server.base_url)
    assert config["authorized"] is False
    assert "clusters" not in config
    assert config["auth_url"] == f"{base}/oauth/authorize"
    assert config["token_url"] == f"{base}/oauth/token"
    assert config["logout_url"] == f"{base}/oauth/logout"
    assert config["headless_callback_url"] == f"{base}/oauth/show-code"
    assert config["success_redirect_url"] == f"{base}/oauth/login-done"
    assert config["client_id"] == "neuro-cli"
    assert config["audience"] == base
    assert config["callback_urls"] == [
        "http://127.0.0.1:54540",
        "http://127.0.0.1:54541",
        "http://127.0.0.1:54542",
    ]


async def test_config_with_token_lists_default_cluster(platform_server: PlatformServer) -> None:
    config = await get_config(platform_server, platform_server.issue_token("alice"))
    api = str(platform_server.api_url)
    assert config["authorized"] is True
    [cluster] = config["clusters"]
    assert cluster["name"] == "default"
    assert cluster["orgs"] == [None]
    assert cluster["storage_url"] == f"{api}/storage"
    assert cluster["monitoring_url"] == f"{api}/jobs"
    assert cluster["secrets_url"] == f"{api}/secrets"
    assert cluster["disks_url"] == f"{api}/disk"
    assert cluster["buckets_url"] == f"{api}/buckets"
    assert cluster["users_url"] == str(platform_server.base_url)
    # The platform serves /v2/ itself: the registry is its own origin (registry/endpoint.py).
    assert cluster["registry_url"] == str(platform_server.base_url)
    names = [p["name"] for p in cluster["resource_presets"]]
    assert names[:3] == ["cpu-small", "cpu-medium", "cpu-large"]
    for preset in cluster["resource_presets"]:
        assert preset["memory"] == preset["memory_mb"] * 1024**2
        assert preset["credits_per_hour"] == "0"


async def test_config_presets_carry_memory_in_bytes_and_mib(tmp_path: Path) -> None:
    clusters = [
        {
            "name": "onprem",
            "orgs": ["NO_ORG", "acme"],
            "presets": [
                {"name": "small", "cpu": 0.5, "memory": 512 * 1024**2, "credits_per_hour": "1.5"},
                {
                    "name": "gpu",
                    "cpu": 4.0,
                    "memory": 8 * 1024**3,
                    "gpu": 2,
                    "gpu_model": "nvidia-h100",
                    "scheduler_enabled": True,
                    "preemptible_node": True,
                },
            ],
        },
        {
            "name": "cloud",
            "orgs": ["acme"],
            "registry_url": "https://registry.example.org",
            "presets": [{"name": "tiny", "cpu": 0.1, "memory": 16 * 1024**2}],
        },
    ]
    with running_platform(tmp_path, config={"clusters": clusters}) as server:
        server.create_user("carol", "carol-password")
        config = await get_config(server, server.issue_token("carol"))
    onprem, cloud = config["clusters"]
    assert onprem["orgs"] == [None, "acme"]
    small, gpu = onprem["resource_presets"]
    assert small == {
        "name": "small",
        "credits_per_hour": "1.5",
        "cpu": 0.5,
        "memory": 512 * 1024**2,
        "memory_mb": 512,
        "scheduler_enabled": False,
        "preemptible_node": False,
        "is_preemptible": False,
        "is_preemptible_node_required": False,
    }
    assert gpu["gpu"] == 2
    assert gpu["gpu_model"] == "nvidia-h100"
    assert gpu["memory_mb"] == 8192
    assert gpu["scheduler_enabled"] is gpu["is_preemptible"] is True
    assert gpu["preemptible_node"] is gpu["is_preemptible_node_required"] is True
    assert cloud["orgs"] == ["acme"]
    assert cloud["registry_url"] == "https://registry.example.org"
    assert cloud["storage_url"] == f"{server.api_url}/clusters/cloud/storage"
    assert onprem["storage_url"] == f"{server.api_url}/storage"
