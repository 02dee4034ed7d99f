"""Each cluster's buckets sub-application (`/api/v1/buckets`, then
`/api/v1/clusters/<name>/buckets`, as `/config` advertises); the service is built in
`composition.py`."""

from __future__ import annotations

from aiohttp import web

from ..api.cluster_prefix import cluster_prefix
from ..settings import Settings
from . import handlers
from .keys import BUCKETS_CLUSTER


def mount_buckets(api: web.Application, settings: Settings) -> None:
    for cluster in settings.clusters:
        prefix = cluster_prefix(settings, cluster) + "/buckets"
        app = web.Application()
        app[BUCKETS_CLUSTER] = cluster.name
        app.add_routes(handlers.routes)
        api.add_subapp(prefix, app)
