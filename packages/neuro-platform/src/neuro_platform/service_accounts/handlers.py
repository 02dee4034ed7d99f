"""HTTP handlers of `/api/v1/service_accounts` (wire spec 8.3)."""

from __future__ import annotations

import json

from aiohttp import web

from ..api.keys import AUTHENTICATOR
from .keys import SERVICE_ACCOUNTS
from .repository import ServiceAccount, ServiceAccountExistsError
from .service import ServiceAccountNotFoundError

routes = web.RouteTableDef()
NDJSON = "application/x-ndjson"


@routes.get("")
async def list_accounts(request: web.Request) -> web.StreamResponse:
    owner = await request.config_dict[AUTHENTICATOR].required_user(request)
    accounts = [
        _to_json(a, deleted)
        for a, deleted in await request.config_dict[SERVICE_ACCOUNTS].list(owner)
    ]
    if NDJSON not in request.headers.get("Accept", ""):
        return web.json_response(accounts)
    body = "".join(json.dumps(a) + "\n" for a in accounts)
    return web.Response(text=body, content_type=NDJSON)


@routes.post("")
async def create_account(request: web.Request) -> web.Response:
    owner = await request.config_dict[AUTHENTICATOR].required_user(request)
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("the body must be an object")
    name, cluster = body.get("name"), body.get("default_cluster")
    if name is not None and not isinstance(name, str):
        raise ValueError("name must be a string or null")
    if cluster is not None and not isinstance(cluster, str):
        raise ValueError("default_cluster must be a string")
    try:
        account, token = await request.config_dict[SERVICE_ACCOUNTS].create(owner, name, cluster)
    except ServiceAccountExistsError as e:
        body = json.dumps({"code": "unique_violation", "description": str(e)})
        raise web.HTTPConflict(text=body, content_type="application/json") from e
    return web.json_response({**_to_json(account, False), "token": token}, status=201)


@routes.get("/{id_or_name}")
async def get_account(request: web.Request) -> web.Response:
    owner = await request.config_dict[AUTHENTICATOR].required_user(request)
    try:
        account, deleted = await request.config_dict[SERVICE_ACCOUNTS].get(
            owner, request.match_info["id_or_name"]
        )
    except ServiceAccountNotFoundError as e:
        raise web.HTTPNotFound(reason=str(e)) from e
    return web.json_response(_to_json(account, deleted))


@routes.delete("/{id_or_name}")
async def remove_account(request: web.Request) -> web.Response:
    owner = await request.config_dict[AUTHENTICATOR].required_user(request)
    try:
        await request.config_dict[SERVICE_ACCOUNTS].remove(owner, request.match_info["id_or_name"])
    except ServiceAccountNotFoundError as e:
        raise web.HTTPNotFound(reason=str(e)) from e
    return web.Response(status=204)


def _to_json(account: ServiceAccount, role_deleted: bool) -> dict[str, object]:
    return {
        "id": account.id,
        "name": account.name,
        "owner": account.owner,
        "default_cluster": account.default_cluster,
        "role": account.role,
        "created_at": account.created_at.isoformat(),
        "role_deleted": role_deleted,
    }
