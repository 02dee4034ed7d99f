"""The jobs sub-application (`/api/v1/jobs`: jobs API and monitoring); its services are
built in `composition.py`."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler

from ..api.cluster_prefix import cluster_prefix
from ..monitoring import handlers as monitoring_handlers
from ..monitoring import interactive, port_forward, save
from ..orchestrator import ContainerNotFoundError, ContainerNotRunningError
from ..permissions import PermissionDeniedError
from ..settings import ClusterSettings, Settings
from . import handlers
from .job_images import ImageAccessDeniedError
from .keys import MONITORING_CLUSTER
from .service import JobLookupError

log = logging.getLogger(__name__)


def mount_jobs(api: web.Application, settings: Settings) -> None:
    """The jobs API at `/jobs`, and each cluster's monitoring (its `monitoring_url`)."""
    for cluster in settings.clusters:
        prefix = cluster_prefix(settings, cluster) + "/jobs"
        # The first cluster's monitoring shares `/jobs` with the jobs API, as `/config` says.
        with_jobs_api = prefix == "/jobs"
        api.add_subapp(prefix, create_jobs_app(cluster, with_jobs_api=with_jobs_api))


def create_jobs_app(cluster: ClusterSettings, *, with_jobs_api: bool = True) -> web.Application:
    app = web.Application(middlewares=[_jobs_error_middleware])
    app[MONITORING_CLUSTER] = cluster
    # Fixed paths first, so `capacity` is not taken for a job id.
    app.add_routes(monitoring_handlers.fixed_routes)
    if with_jobs_api:
        app.add_routes(handlers.routes)
    app.add_routes(monitoring_handlers.routes)
    app.add_routes(interactive.routes)
    app.add_routes(port_forward.routes)
    app.add_routes(save.routes)
    return app


@web.middleware
async def _jobs_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Job lookups answer 404; websocket handshakes also carry the error in `X-Error`
    (docs/protocol.md §1), which is all a websocket client gets to see."""
    try:
        return await handler(request)
    except (JobLookupError, ContainerNotFoundError, ContainerNotRunningError) as e:
        raise _json_http_error(web.HTTPNotFound, {"error": str(e)}) from e
    except ImageAccessDeniedError as e:
        body = {"error": e.message, "missing": [p.to_json() for p in e.missing]}
        raise _json_http_error(web.HTTPForbidden, body) from e
    except PermissionDeniedError as e:
        if not _is_websocket(request):
            raise
        body = {"missing": [p.to_json() for p in e.missing]}
        raise _json_http_error(web.HTTPForbidden, body) from e
    except ValueError as e:
        if not _is_websocket(request):
            raise
        raise _json_http_error(web.HTTPBadRequest, {"error": str(e)}) from e


def _is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def _json_http_error(
    kind: type[web.HTTPException], body: Mapping[str, object]
) -> web.HTTPException:
    text = json.dumps(body)
    return kind(text=text, content_type="application/json", headers={"X-Error": text})
