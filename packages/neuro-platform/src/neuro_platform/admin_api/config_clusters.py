"""`GET API/clusters`: the clusters as the hosted platform-config service lists them, which the
original 22.7.1 CLI's `neuro admin get-clusters` asks besides the admin API (docs/admin.md).

Only a cluster admin may ask, and sees the clusters they administer; a self-hosted platform's
clusters come from its settings, so each is "deployed", created when this server started
(settings take effect then). Provisioning (`POST`, cloud providers, node pools) is hosted-only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from ..api.keys import AUTHENTICATOR
from ..api.openapi import describe
from ..errors import RefusedError
from .keys import ADMIN

routes = web.RouteTableDef()

_STARTED = datetime.now(UTC)  # the settings, and so the clusters, took effect at start


@routes.get("/clusters")
@describe("The clusters a cluster admin administers, as the original platform-config lists them")
async def list_config_clusters(request: web.Request) -> web.Response:
    caller = await request.config_dict[AUTHENTICATOR].required_user(request)
    names = await request.config_dict[ADMIN].administered_clusters(caller)
    if not names:
        raise RefusedError("Only a cluster admin may list the clusters' configuration")
    created_at = _STARTED.isoformat()
    return web.json_response(
        [{"name": name, "status": "deployed", "created_at": created_at} for name in names]
    )
