"""Shared fixtures: a config directory, builders of stored configs, clients of real users."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import jwt
import pytest
from yarl import URL

import neuro_sdk
from neuro_platform.testing.fixtures import (  # noqa: F401 (fixtures)
    jobs_platform_server,
    platform_server,
    shared_platform_server,
)
from neuro_platform.testing.server import PlatformServer
from neuro_sdk._auth_token import _AuthToken
from neuro_sdk._cluster import Cluster, Preset
from neuro_sdk._config_db import _ConfigData
from neuro_sdk._server_cfg import _AuthConfig
from neuro_sdk._version import __version__

BASE = URL("http://127.0.0.1:8080")

MakeConfigData = Callable[..., _ConfigData]
ClientOf = Callable[[str], Awaitable[neuro_sdk.Client]]


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config dir that does not exist yet; CWD is a folder with no .neuro.toml above it."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.delenv("NEURO_PASSED_CONFIG", raising=False)
    return tmp_path / "neuro-config"


def make_cluster(name: str, orgs: list[str | None]) -> Cluster:
    cluster_base = BASE / "api/v1/clusters" / name
    return Cluster(
        name=name,
        orgs=orgs,
        registry_url=URL(f"http://registry-{name}.local:5000"),
        storage_url=cluster_base / "storage",
        users_url=BASE,
        monitoring_url=cluster_base / "jobs",
        secrets_url=cluster_base / "secrets",
        disks_url=cluster_base / "disk",
        buckets_url=cluster_base / "buckets",
        presets={
            "cpu-small": Preset(credits_per_hour=Decimal("1.5"), cpu=1.0, memory_mb=1024),
            "gpu-large": Preset(
                credits_per_hour=Decimal("10"),
                cpu=8.0,
                memory_mb=32768,
                scheduler_enabled=True,
                gpu=1,
                gpu_model="nvidia-tesla-h100",
            ),
        },
    )


def user_token(name: str = "alice") -> str:
    return jwt.encode(
        {"identity": name, "sub": name}, "a-key-the-sdk-never-checks-32-bytes-long", "HS256"
    )


@pytest.fixture
def make_config_data() -> MakeConfigData:
    def make(
        *,
        cluster_name: str = "default",
        org_name: str | None = None,
        clusters: dict[str, list[str | None]] | None = None,
    ) -> _ConfigData:
        cluster_orgs: dict[str, list[str | None]] = (
            clusters if clusters is not None else {"default": [None]}
        )
        return _ConfigData(
            auth_config=_AuthConfig(
                auth_url=BASE / "oauth/authorize",
                token_url=BASE / "oauth/token",
                logout_url=BASE / "oauth/logout",
                client_id="neuro-cli",
                audience=str(BASE),
                headless_callback_url=BASE / "oauth/show-code",
                success_redirect_url=BASE / "oauth/login-done",
            ),
            auth_token=_AuthToken(user_token(), time.time() + 3600, "refresh-me"),
            url=BASE / "api/v1",
            admin_url=None,
            version=__version__,
            cluster_name=cluster_name,
            org_name=org_name,
            clusters={name: make_cluster(name, orgs) for name, orgs in cluster_orgs.items()},
        )

    return make


@pytest.fixture
async def client_of(
    platform_server: PlatformServer,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> AsyncIterator[ClientOf]:
    """``await client_of("bob")``: a client logged in as that user, closed after the test."""
    clients: list[neuro_sdk.Client] = []

    async def make(name: str) -> neuro_sdk.Client:
        config_dir = tmp_path / f"config-{name}"
        token = platform_server.issue_token(name)
        await neuro_sdk.login_with_token(token, url=platform_server.api_url, path=config_dir)
        client = await neuro_sdk.get(path=config_dir)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
