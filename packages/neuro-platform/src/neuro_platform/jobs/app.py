"""The jobs sub-application (`/api/v1/jobs`: jobs API and monitoring); its services are
built in `composition.py`."""

from __future__ import annotations

from aiohttp import web

from ..api.cluster_prefix import cluster_prefix
from ..monitoring import handlers as monitoring_handlers
from ..monitoring import interactive, port_forward, save
from ..settings import ClusterSettings, Settings
from . import handlers
from .encoded import EncodedJobs
from .keys import ENCODED_JOBS, MONITORING_CLUSTER


def mount_jobs(api: web.Application, settings: Settings) -> None:
    """The jobs API at `/jobs`, and each cluster's monitoring (its `monitoring_url`)."""
    for cluster in settings.clusters:
        prefix = cluster_prefix(settings, cluster) + "/jobs"
        # The first cluster's monitoring shares `/jobs` with the jobs API, as `/config` says.
        with_jobs_api = prefix == "/jobs"
        api.add_subapp(prefix, create_jobs_app(cluster, with_jobs_api=with_jobs_api))


def create_jobs_app(cluster: ClusterSettings, *, with_jobs_api: bool = True) -> web.Application:
    app = web.Application()
    app[MONITORING_CLUSTER] = cluster
    # Fixed paths first, so `capacity` is not taken for a job id.
    app.add_routes(monitoring_handlers.fixed_routes)
    if with_jobs_api:
        app[ENCODED_JOBS] = EncodedJobs()
        app.add_routes(handlers.routes)
    app.add_routes(monitoring_handlers.routes)
    app.add_routes(interactive.routes)
    app.add_routes(port_forward.routes)
    app.add_routes(save.routes)
    return app
