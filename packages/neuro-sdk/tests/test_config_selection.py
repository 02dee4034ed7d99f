"""Cluster and org selection on a stored config (no server involved: docs/protocol.md §2.6)."""

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import neuro_sdk
from neuro_sdk import Client, ConfigError, Factory
from neuro_sdk._config_db import load_config_data, save_config_data

from .conftest import MakeConfigData

GetClient = Callable[..., Any]


@pytest.fixture
async def client_for(
    config_dir: Path, make_config_data: MakeConfigData
) -> AsyncIterator[Callable[..., Any]]:
    """Store a config made by ``make_config_data(**kwargs)`` and open a client on it."""
    clients: list[Client] = []

    async def make(**kwargs: Any) -> Client:
        save_config_data(config_dir, make_config_data(**kwargs))
        client = await Factory(config_dir).get()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def write_project_config(text: str) -> None:
    """A .neuro.toml in the test's working directory."""
    Path(".neuro.toml").write_text(text)


CLUSTERS: dict[str, list[str | None]] = {
    "default": [None, "acme"],
    "gpu": ["zeta", "acme"],
    "orgless": ["zeta", "beta"],
}


async def test_client_exposes_the_stored_config(client_for: GetClient) -> None:
    client = await client_for(clusters=CLUSTERS)
    assert client.username == "alice"
    assert client.config.cluster_name == "default"
    assert client.config.org_name is None
    assert set(client.config.clusters) == {"default", "gpu", "orgless"}
    assert client.presets["gpu-large"].gpu_model == "nvidia-tesla-h100"
    assert client.presets["gpu-large"].is_preemptible
    assert client.presets["cpu-small"].memory == 1024 * 2**20
    assert str(client.config.storage_url).endswith("/clusters/default/storage")


async def test_switch_cluster_keeps_an_allowed_org(client_for: GetClient, config_dir: Path) -> None:
    client = await client_for(clusters=CLUSTERS, org_name="acme")
    await client.config.switch_cluster("gpu")
    assert (client.config.cluster_name, client.config.org_name) == ("gpu", "acme")
    stored = load_config_data(config_dir)
    assert (stored.cluster_name, stored.org_name) == ("gpu", "acme")


async def test_switch_cluster_falls_back_to_no_org_then_first_org(client_for: GetClient) -> None:
    client = await client_for(clusters=CLUSTERS, cluster_name="gpu", org_name="zeta")
    await client.config.switch_cluster("default")
    assert client.config.org_name is None
    await client.config.switch_cluster("orgless")
    assert client.config.org_name == "beta"


async def test_switch_to_unknown_cluster_is_refused(client_for: GetClient) -> None:
    client = await client_for(clusters=CLUSTERS)
    with pytest.raises(ConfigError, match="Cluster nope doesn't exist"):
        await client.config.switch_cluster("nope")
    assert client.config.cluster_name == "default"


async def test_switch_org(client_for: GetClient, config_dir: Path) -> None:
    client = await client_for(clusters=CLUSTERS)
    await client.config.switch_org("acme")
    assert client.config.org_name == "acme"
    assert load_config_data(config_dir).org_name == "acme"
    with pytest.raises(ConfigError, match="Org zeta is not available on cluster default"):
        await client.config.switch_org("zeta")
    await client.config.switch_org(None)
    assert client.config.org_name is None


async def test_local_project_file_overrides_and_locks_the_selection(
    client_for: GetClient,
) -> None:
    write_project_config("[job]\ncluster-name = 'gpu'\norg-name = 'NO_ORG'\n")
    client = await client_for(clusters=CLUSTERS)
    assert client.config.cluster_name == "gpu"
    assert client.config.org_name is None
    with pytest.raises(ConfigError, match=re.escape("'job.cluster-name' is set in .neuro.toml")):
        await client.config.switch_cluster("orgless")
    with pytest.raises(ConfigError, match=re.escape("'job.org-name' is set in .neuro.toml")):
        await client.config.switch_org("acme")


async def test_user_config_is_available_from_the_client(client_for: GetClient) -> None:
    write_project_config("[job]\nps-format = '{id} {status}'\n")
    client = await client_for()
    assert await client.config.get_user_config() == {"job": {"ps-format": "{id} {status}"}}


async def test_bad_user_config_fails_get(
    config_dir: Path, make_config_data: MakeConfigData
) -> None:
    save_config_data(config_dir, make_config_data())
    write_project_config("[job\n")
    with pytest.raises(ConfigError, match="malformed TOML"):
        await Factory(config_dir).get()


async def test_close_is_idempotent(client_for: GetClient) -> None:
    client = await client_for()
    assert not client.closed
    await client.close()
    await client.close()
    assert client.closed


async def test_get_without_config_asks_to_login(config_dir: Path) -> None:
    with pytest.raises(ConfigError, match="Please login"):
        await Factory(config_dir).get(timeout=aiohttp.ClientTimeout(total=5))


async def test_get_can_be_awaited_as_well_as_entered(
    config_dir: Path, make_config_data: MakeConfigData
) -> None:
    save_config_data(config_dir, make_config_data())
    client = await neuro_sdk.get(path=config_dir)
    try:
        assert client.username == "alice"
    finally:
        await client.close()
    async with neuro_sdk.get(path=config_dir) as entered:
        assert entered.config.cluster_name == "default"
    assert entered.closed
