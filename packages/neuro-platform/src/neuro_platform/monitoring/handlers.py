"""Monitoring handlers, mounted in the jobs sub-application at `/api/v1/jobs`."""

from __future__ import annotations

from aiohttp import web

from ..api.keys import AUTHENTICATOR, SETTINGS
from ..jobs.keys import SCHEDULER

fixed_routes = web.RouteTableDef()
routes = web.RouteTableDef()


@fixed_routes.get("/capacity")
@fixed_routes.post("/available")  # the old name of the same question
async def capacity(request: web.Request) -> web.Response:
    """How many more jobs of each preset fit on the node now: `{"<preset>": n}`."""
    await request.config_dict[AUTHENTICATOR].required_user(request)
    free = await request.config_dict[SCHEDULER].free_resources()
    cluster = request.config_dict[SETTINGS].clusters[0]
    return web.json_response({p.name: free.how_many(p) for p in cluster.presets})
