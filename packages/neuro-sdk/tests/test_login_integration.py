"""Logging in against our real server on a loopback port (docs/protocol.md §2.1, 2.5)."""

import asyncio
import base64
import dataclasses
import json
from pathlib import Path

import jwt
import pytest
from yarl import URL

import neuro_sdk
from neuro_platform.testing.server import PlatformServer, running_platform
from neuro_sdk import AuthError, ConfigError, Factory
from neuro_sdk._config_db import load_config_data, save_config_data

TWO_CLUSTERS = {
    "clusters": [
        {"name": "default", "orgs": ["NO_ORG", "acme"]},
        {"name": "gpu", "orgs": ["zeta", "acme"]},
    ]
}


@pytest.fixture
def platform_server(shared_platform_server: PlatformServer) -> PlatformServer:
    """These tests keep their state in their own config dirs and only log in: one server will do."""
    return shared_platform_server


async def test_login_with_token_then_get(platform_server: PlatformServer, config_dir: Path) -> None:
    token = platform_server.issue_token("alice")
    await neuro_sdk.login_with_token(token, url=platform_server.api_url, path=config_dir)
    async with neuro_sdk.get(path=config_dir) as client:
        assert client.username == "alice"
        assert client.config.api_url == platform_server.api_url
        assert client.config.cluster_name == "default"
        assert client.config.org_name is None
        assert client.config.storage_url == platform_server.api_url / "storage"
        assert client.config.monitoring_url == platform_server.api_url / "jobs"
        assert client.presets, "the server advertises presets for the default cluster"
        assert await client.config.token() == token
    assert client.closed
    stored = load_config_data(config_dir)
    assert stored.auth_config.token_url == platform_server.base_url / "oauth/token"
    assert stored.auth_token.refresh_token == ""


async def test_fetch_reloads_clusters(platform_server: PlatformServer, config_dir: Path) -> None:
    token = platform_server.issue_token("alice")
    await Factory(config_dir).login_with_token(token, url=platform_server.api_url)
    async with neuro_sdk.get(path=config_dir) as client:
        before = client.config.clusters
        await client.config.fetch()
        assert client.config.clusters == before
        assert "default" in client.config.clusters


async def test_login_over_existing_config_is_refused(
    platform_server: PlatformServer, config_dir: Path
) -> None:
    token = platform_server.issue_token("alice")
    factory = Factory(config_dir)
    await factory.login_with_token(token, url=platform_server.api_url)
    with pytest.raises(ConfigError, match="already exists"):
        await factory.login_with_token(
            platform_server.issue_token("bob"), url=platform_server.api_url
        )
    async with neuro_sdk.get(path=config_dir) as client:
        assert client.username == "alice"


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["identity"] = claims["https://platform.neuromation.io/user"] = "bob"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


async def test_tampered_token_is_refused(platform_server: PlatformServer, config_dir: Path) -> None:
    forged = _tamper(platform_server.issue_token("alice"))
    with pytest.raises(AuthError, match="Cannot authorize user"):
        await Factory(config_dir).login_with_token(forged, url=platform_server.api_url)
    assert not Factory(config_dir).is_config_present


async def test_unsigned_token_is_refused(platform_server: PlatformServer, config_dir: Path) -> None:
    unsigned = jwt.encode({"identity": "alice", "sub": "alice"}, "", algorithm="none")
    with pytest.raises(AuthError, match="Cannot authorize user"):
        await Factory(config_dir).login_with_token(unsigned, url=platform_server.api_url)
    assert not Factory(config_dir).is_config_present


async def test_expired_token_is_refused(platform_server: PlatformServer, config_dir: Path) -> None:
    expired = platform_server.issue_token("alice", ttl_s=1)
    await asyncio.sleep(2)  # let the one-second lifetime run out
    with pytest.raises(AuthError, match="Cannot authorize user"):
        await Factory(config_dir).login_with_token(expired, url=platform_server.api_url)
    assert not Factory(config_dir).is_config_present


async def test_passed_config_round_trip(
    tmp_path: Path, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_platform(tmp_path, config=TWO_CLUSTERS) as server:
        server.create_user("alice", "alice-password")
        passed = {
            "token": server.issue_token("alice"),
            "cluster": "gpu",
            "org_name": None,
            "url": str(server.api_url),
        }
        encoded = base64.b64encode(json.dumps(passed).encode()).decode()
        monkeypatch.setenv(neuro_sdk.PASS_CONFIG_ENV_NAME, encoded)
        # No db yet: get() logs in from the environment by itself.
        async with neuro_sdk.get(path=config_dir) as client:
            assert client.username == "alice"
            assert client.config.cluster_name == "gpu"
            assert client.config.org_name == "acme"
        assert Factory(config_dir).is_config_present


async def test_malformed_passed_config_is_a_config_error(config_dir: Path) -> None:
    with pytest.raises(ConfigError, match="Malformed passed config"):
        await Factory(config_dir).login_with_passed_config("not base64 json!")


async def test_two_clusters_and_orgs(tmp_path: Path, config_dir: Path) -> None:
    with running_platform(tmp_path, config=TWO_CLUSTERS) as server:
        server.create_user("alice", "alice-password")
        await Factory(config_dir).login_with_token(server.issue_token("alice"), url=server.api_url)
        async with neuro_sdk.get(path=config_dir) as client:
            config = client.config
            assert set(config.clusters) == {"default", "gpu"}
            assert list(config.clusters["default"].orgs) == [None, "acme"]
            assert config.clusters["gpu"].storage_url == server.api_url / "clusters/gpu/storage"
            await config.switch_org("acme")
            await config.switch_cluster("gpu")
            assert (config.cluster_name, config.org_name) == ("gpu", "acme")
            assert config.storage_url == server.api_url / "clusters/gpu/storage"
            with pytest.raises(ConfigError, match="Org nope is not available on cluster gpu"):
                await config.switch_org("nope")
            with pytest.raises(ConfigError, match="Cluster nope doesn't exist"):
                await config.switch_cluster("nope")
        # The selection survives in the db for the next client.
        async with neuro_sdk.get(path=config_dir) as client:
            assert (client.config.cluster_name, client.config.org_name) == ("gpu", "acme")


async def test_logout_removes_the_config(platform_server: PlatformServer, config_dir: Path) -> None:
    await Factory(config_dir).login_with_token(
        platform_server.issue_token("alice"), url=platform_server.api_url
    )
    opened: list[URL] = []

    async def show_browser(url: URL) -> None:
        opened.append(url)

    await neuro_sdk.logout(path=config_dir, show_browser_cb=show_browser)
    assert opened == [(platform_server.base_url / "oauth/logout").with_query(client_id="neuro-cli")]
    with pytest.raises(ConfigError, match="Please login"):
        await Factory(config_dir).get()


async def test_config_of_another_sdk_version_is_checked_against_the_server(
    platform_server: PlatformServer, config_dir: Path
) -> None:
    await Factory(config_dir).login_with_token(
        platform_server.issue_token("alice"), url=platform_server.api_url
    )
    stored = load_config_data(config_dir)
    save_config_data(config_dir, dataclasses.replace(stored, version="22.6.3"))
    async with neuro_sdk.get(path=config_dir) as client:
        assert client.username == "alice"
    assert load_config_data(config_dir).version == neuro_sdk.__version__

    # An older SDK saw other clusters: the user must log in again.
    save_config_data(config_dir, dataclasses.replace(stored, version="22.6.3", clusters={}))
    with pytest.raises(ConfigError, match="Please logout and login again"):
        await Factory(config_dir).get()
