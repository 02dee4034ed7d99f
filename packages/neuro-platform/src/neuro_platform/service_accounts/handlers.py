"""HTTP handlers of `/api/v1/service_accounts` (docs/protocol.md §8.3)."""

from __future__ import annotations

import json
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ..api.keys import AUTHENTICATOR
from ..api.openapi import describe
from ..api.validation import read_json
from .entities import ServiceAccount
from .keys import SERVICE_ACCOUNTS

routes = web.RouteTableDef()
NDJSON = "application/x-ndjson"


class ServiceAccountBody(BaseModel):
    model_config = ConfigDict(strict=True)

    name: Annotated[str, Field(max_length=1024)] | None = None
    default_cluster: Annotated[str, Field(max_length=1024)] | None = None


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
@describe("Create a service account", body=ServiceAccountBody)
async def create_account(request: web.Request) -> web.Response:
    owner = await request.config_dict[AUTHENTICATOR].required_user(request)
    body = await read_json(request, ServiceAccountBody)
    name, cluster = body.name, body.default_cluster
    account, token = await request.config_dict[SERVICE_ACCOUNTS].create(owner, name, cluster)
    return web.json_response({**_to_json(account, False), "token": token}, status=201)


@routes.get("/{id_or_name}")
async def get_account(request: web.Request) -> web.Response:
    owner = await request.config_dict[AUTHENTICATOR].required_user(request)
    account, deleted = await request.config_dict[SERVICE_ACCOUNTS].get(
        owner, request.match_info["id_or_name"]
    )
    return web.json_response(_to_json(account, deleted))


@routes.delete("/{id_or_name}")
async def remove_account(request: web.Request) -> web.Response:
    owner = await request.config_dict[AUTHENTICATOR].required_user(request)
    await request.config_dict[SERVICE_ACCOUNTS].remove(owner, request.match_info["id_or_name"])
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
