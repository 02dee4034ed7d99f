"""Each cluster's secrets sub-application (`/api/v1/secrets`, then
`/api/v1/clusters/<name>/secrets`, as `/config` advertises); the service is built in
`composition.py`."""

from __future__ import annotations

from aiohttp import web

from ..api.cluster_prefix import cluster_prefix
from ..settings import Settings
from . import handlers
from .keys import SECRETS_CLUSTER


def mount_secrets(api: web.Application, settings: Settings) -> None:
    for cluster in settings.clusters:
        prefix = cluster_prefix(settings, cluster) + "/secrets"
        app = web.Application()
        app[SECRETS_CLUSTER] = cluster.name
        app.add_routes(handlers.routes)
        api.add_subapp(prefix, app)
