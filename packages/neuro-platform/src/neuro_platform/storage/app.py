"""The storage sub-application of each cluster and where it is mounted.

The first cluster's storage is served at `/api/v1/storage`, further clusters' at
`/api/v1/clusters/<name>/storage` (the URLs `/config` advertises). Each cluster's files live
in their own root, `<storage root>/<cluster>` (`[storage] root`, by default
`<data-dir>/storage`), laid out as the storage URIs are:
`/<user>/...` for homes and `/<org>/<user>/...` inside org folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from ..api.cluster_prefix import cluster_prefix
from ..settings import Settings
from .filesystem import LocalFilesystem
from .handlers import handle
from .keys import STORAGE_CLUSTER, STORAGE_FILESYSTEM, STORAGE_QUOTA, StorageBackend
from .quota import StorageQuota
from .roots import storage_root
from .socket_body import close_taken_connections


def mount_storage(api: web.Application, settings: Settings) -> dict[str, StorageBackend]:
    """Adds every cluster's storage sub-application to the `/api/v1` application; returns
    each cluster's filesystem and quota, for the web console to share (one quota count)."""
    backends = {}
    for cluster in settings.clusters:
        prefix = cluster_prefix(settings, cluster) + "/storage"
        storage_app = create_storage_app(
            cluster.name,
            storage_root(settings, cluster.name),
            quota=settings.storage.max_bytes_per_user,
            orgs=[org for org in cluster.orgs if org is not None],
        )
        api.add_subapp(prefix, storage_app)
        backends[cluster.name] = StorageBackend(
            cluster.name, storage_app[STORAGE_FILESYSTEM], storage_app.get(STORAGE_QUOTA)
        )
    return backends


def create_storage_app(
    cluster_name: str, root: Path, *, quota: int | None = None, orgs: Sequence[str] = ()
) -> web.Application:
    app = web.Application()
    app[STORAGE_CLUSTER] = cluster_name
    app[STORAGE_FILESYSTEM] = LocalFilesystem(root)
    if quota is not None:
        app[STORAGE_QUOTA] = StorageQuota(root, quota, orgs)
    app.on_startup.append(_create_root)
    app.on_response_prepare.append(close_taken_connections)
    # The bare prefix is the storage root itself (`storage:/`).
    app.router.add_route("*", "", handle)
    # Any path, newlines included (a file name may hold one; `.*` would stop there: 404).
    app.router.add_route("*", r"/{path:[\s\S]*}", handle)
    return app


async def _create_root(app: web.Application) -> None:
    await app[STORAGE_FILESYSTEM].ensure_root()
