"""`GET /api/v1/config` (docs/protocol.md §2.1) and `GET /api/v1/ping`."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from yarl import URL

from ..api.cluster_prefix import cluster_prefix
from ..api.keys import AUTHENTICATOR, SETTINGS
from ..auth.client import CALLBACK_URLS, CLIENT_ID
from ..presets import Preset
from ..settings import ClusterSettings, Settings

routes = web.RouteTableDef()


@routes.get("/ping")
async def ping(request: web.Request) -> web.Response:
    return web.Response(text="Pong")


@routes.get("/config")
async def get_config(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    base = _base_url(request, settings)
    body: dict[str, Any] = auth_config(base)
    # A bad or expired token is not an error here: the SDK expects `authorized: false`.
    user = await request.config_dict[AUTHENTICATOR].optional_user(request)
    body["authorized"] = user is not None
    if user is not None:
        # The admin API (docs/protocol.md §2.7): quotas, credits, `neuro admin`.
        body["admin_url"] = str(base / "api" / "v1" / "admin")
        # Every user may use every configured cluster: per-cluster access (the original's
        # `cluster://<name>/access`) comes with the admin API.
        body["clusters"] = [cluster_json(settings, cluster, base) for cluster in settings.clusters]
    return web.json_response(body)


def _base_url(request: web.Request, settings: Settings) -> URL:
    # A job asks at the address it was given (see jobs/api_listener.py); the URLs it is
    # told must be ones it reaches too, or its SDK could not use storage or logs.
    jobs_url = settings.jobs.api_url
    if jobs_url is not None and request.host == jobs_url.raw_authority:
        return jobs_url
    return settings.public_url


def auth_config(base: URL) -> dict[str, Any]:
    oauth = base / "oauth"
    return {
        "auth_url": str(oauth / "authorize"),
        "token_url": str(oauth / "token"),
        "logout_url": str(oauth / "logout"),
        "client_id": CLIENT_ID,
        "audience": str(base),
        "headless_callback_url": str(oauth / "show-code"),
        "callback_urls": CALLBACK_URLS,
        "success_redirect_url": str(oauth / "login-done"),
    }


def cluster_json(
    settings: Settings, cluster: ClusterSettings, public_url: URL | None = None
) -> dict[str, Any]:
    public_url = public_url or settings.public_url
    api = public_url / "api" / "v1"
    base = URL(str(api) + cluster_prefix(settings, cluster))

    def url(configured: URL | None, path: str) -> str:
        return str(configured or base / path)

    return {
        "name": cluster.name,
        "registry_url": str(settings.cluster_registry_url(cluster)),
        "storage_url": url(cluster.storage_url, "storage"),
        "users_url": str(public_url),
        "monitoring_url": url(cluster.monitoring_url, "jobs"),
        "secrets_url": url(cluster.secrets_url, "secrets"),
        "disks_url": url(cluster.disks_url, "disk"),
        "buckets_url": url(cluster.buckets_url, "buckets"),
        "metrics_url": url(None, "metrics"),
        "orgs": list(cluster.orgs),
        "resource_presets": [preset_json(p) for p in cluster.presets],
    }


def preset_json(preset: Preset) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": preset.name,
        "credits_per_hour": str(preset.credits_per_hour),
        "cpu": preset.cpu,
        # 22.7 clients read bytes, 22.6 clients read MiB: send both.
        "memory": preset.memory,
        "memory_mb": preset.memory_mb,
        "scheduler_enabled": preset.scheduler_enabled,
        "preemptible_node": preset.preemptible_node,
        "is_preemptible": preset.scheduler_enabled,
        "is_preemptible_node_required": preset.preemptible_node,
    }
    if preset.gpu is not None:
        body["gpu"] = preset.gpu
    if preset.gpu_model is not None:
        body["gpu_model"] = preset.gpu_model
    return body
