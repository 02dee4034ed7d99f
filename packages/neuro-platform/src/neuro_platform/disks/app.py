"""Each cluster's disks sub-application (`/api/v1/disk`, then `/api/v1/clusters/<name>/disk`);
the service and its background refresh are built in `composition.py`."""

from __future__ import annotations

from aiohttp import web

from ..api.cluster_prefix import cluster_prefix
from ..settings import Settings
from . import handlers
from .keys import DISKS_CLUSTER


def mount_disks(api: web.Application, settings: Settings) -> None:
    for cluster in settings.clusters:
        prefix = cluster_prefix(settings, cluster) + "/disk"
        app = web.Application()
        app[DISKS_CLUSTER] = cluster.name
        app.add_routes(handlers.routes)
        api.add_subapp(prefix, app)
