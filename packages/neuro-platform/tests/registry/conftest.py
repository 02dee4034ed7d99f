"""A server with a private registry, and its clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.fixtures import USERS
from neuro_platform.testing.server import running_platform

from .client import DockerCli, RegistryClient


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    with running_platform(tmp_path_factory.mktemp("registry"), users=USERS) as server:
        yield server


@pytest.fixture
async def alice(registry_server: PlatformServer) -> AsyncIterator[RegistryClient]:
    client = RegistryClient(registry_server, "alice")
    yield client
    await client.close()


@pytest.fixture
async def bob(registry_server: PlatformServer) -> AsyncIterator[RegistryClient]:
    client = RegistryClient(registry_server, "bob")
    yield client
    await client.close()


@pytest.fixture
def docker_cli(tmp_path: Path) -> Iterator[DockerCli]:
    cli = DockerCli(tmp_path / "docker-config")
    try:
        yield cli
    finally:
        cli.cleanup()
