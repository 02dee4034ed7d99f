"""``GET API/config``: the auth settings and the clusters a user may use (docs/protocol.md §2.1)."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from yarl import URL

from ._cluster import Cluster, Preset
from ._core import _Core
from ._errors import AuthError, ConfigError

_MIB = 2**20
DEFAULT_CALLBACK_URLS = (
    URL("http://127.0.0.1:54540"),
    URL("http://127.0.0.1:54541"),
    URL("http://127.0.0.1:54542"),
)


@dataclass(frozen=True)
class _AuthConfig:
    """Where and how to run the OAuth2 flows."""

    auth_url: URL
    token_url: URL
    logout_url: URL
    client_id: str
    audience: str
    headless_callback_url: URL
    success_redirect_url: URL | None = None
    callback_urls: tuple[URL, ...] = DEFAULT_CALLBACK_URLS


@dataclass(frozen=True)
class _ServerConfig:
    auth_config: _AuthConfig
    admin_url: URL | None
    # Empty when the request carried no (accepted) token.
    clusters: Mapping[str, Cluster]


def parse_preset(payload: Mapping[str, Any]) -> Preset:
    # 22.6 servers send memory_mb, 22.7 servers memory in bytes; ours sends both.
    if "memory_mb" in payload:
        memory_mb = int(payload["memory_mb"])
    else:
        memory_mb = int(payload["memory"]) // _MIB
    tpu = payload.get("tpu") or {}
    return Preset(
        credits_per_hour=Decimal(payload.get("credits_per_hour", "0")),
        cpu=float(payload["cpu"]),
        memory_mb=memory_mb,
        scheduler_enabled=bool(payload.get("scheduler_enabled", False)),
        preemptible_node=bool(payload.get("preemptible_node", False)),
        gpu=payload.get("gpu"),
        gpu_model=payload.get("gpu_model"),
        tpu_type=tpu.get("type"),
        tpu_software_version=tpu.get("software_version"),
    )


def parse_cluster(payload: Mapping[str, Any]) -> Cluster:
    return Cluster(
        name=payload["name"],
        orgs=list(payload.get("orgs", [None])),
        registry_url=URL(payload["registry_url"]),
        storage_url=URL(payload["storage_url"]),
        users_url=URL(payload["users_url"]),
        monitoring_url=URL(payload["monitoring_url"]),
        secrets_url=URL(payload["secrets_url"]),
        disks_url=URL(payload["disks_url"]),
        buckets_url=URL(payload["buckets_url"]),
        presets={
            preset["name"]: parse_preset(preset) for preset in payload.get("resource_presets", [])
        },
    )


def parse_auth_config(payload: Mapping[str, Any]) -> _AuthConfig:
    success_redirect_url = payload.get("success_redirect_url")
    callback_urls = payload.get("callback_urls")
    return _AuthConfig(
        auth_url=URL(payload["auth_url"]),
        token_url=URL(payload["token_url"]),
        logout_url=URL(payload["logout_url"]),
        client_id=payload["client_id"],
        audience=payload["audience"],
        headless_callback_url=URL(payload["headless_callback_url"]),
        success_redirect_url=URL(success_redirect_url) if success_redirect_url else None,
        callback_urls=(
            tuple(URL(url) for url in callback_urls) if callback_urls else DEFAULT_CALLBACK_URLS
        ),
    )


def parse_server_config(payload: Mapping[str, Any]) -> _ServerConfig:
    try:
        admin_url = payload.get("admin_url")
        return _ServerConfig(
            auth_config=parse_auth_config(payload),
            admin_url=URL(admin_url) if admin_url else None,
            clusters={
                cluster["name"]: parse_cluster(cluster) for cluster in payload.get("clusters", [])
            },
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ConfigError(f"Malformed server configuration: {exc!r}") from exc


async def get_server_config(core: _Core, api_url: URL, token: str | None = None) -> _ServerConfig:
    """Fetch ``/config``; with a token, the server must accept it."""
    auth = f"Bearer {token}" if token is not None else None
    async with core.request("GET", api_url / "config", auth=auth, check=False) as response:
        if response.status != 200:
            raise ConfigError(f"Unable to get server configuration: {response.status}")
        payload = await response.json()
    if token is not None and not payload.get("authorized", False):
        raise AuthError("Cannot authorize user")
    return parse_server_config(payload)
