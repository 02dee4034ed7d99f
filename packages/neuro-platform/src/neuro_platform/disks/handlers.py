"""HTTP handlers of `disks_url` (docs/protocol.md §8.2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ..api.keys import AUTHENTICATOR
from ..api.openapi import describe
from ..api.validation import BIG_INT, read_json, read_query
from ..permissions.uris import org_from_wire
from .keys import DISKS, DISKS_CLUSTER

routes = web.RouteTableDef()
# 100 years: a `timedelta` and the expiry date it gives stay in range.
MAX_LIFE_SPAN_S = 100 * 365 * 24 * 3600


class DiskBody(BaseModel):
    model_config = ConfigDict(strict=True, allow_inf_nan=False)

    storage: Annotated[int, Field(ge=0, le=BIG_INT, description="bytes")]
    life_span: Annotated[float, Field(gt=0, le=MAX_LIFE_SPAN_S, description="seconds")] | None = (
        None
    )
    name: Annotated[str, Field(max_length=1024)] | None = None
    org_name: Annotated[str, Field(max_length=1024)] | None = None


class DiskOwnerQuery(BaseModel):
    owner: Annotated[str, Field(max_length=1024)] | None = None


@routes.get("")
async def list_disks(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    disks = await request.config_dict[DISKS].readable(user, request.app[DISKS_CLUSTER])
    return web.json_response([d.to_json() for d in disks])


@routes.post("")
@describe("Create a disk", body=DiskBody)
async def create_disk(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    body = await read_json(request, DiskBody)
    life_span = body.life_span
    disk = await request.config_dict[DISKS].create(
        user,
        request.app[DISKS_CLUSTER],
        org_from_wire(body.org_name),
        body.storage,
        body.name,
        None if life_span is None else timedelta(seconds=life_span),
    )
    return web.json_response(disk.to_json(), status=201)


@routes.get("/{disk}")
@describe("Get a disk", query=DiskOwnerQuery)
async def get_disk(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    disk = await request.config_dict[DISKS].get(
        user, request.app[DISKS_CLUSTER], request.match_info["disk"], _owner(request)
    )
    return web.json_response(disk.to_json())


@routes.delete("/{disk}")
@describe("Remove a disk", query=DiskOwnerQuery)
async def remove_disk(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    await request.config_dict[DISKS].remove(
        user, request.app[DISKS_CLUSTER], request.match_info["disk"], _owner(request)
    )
    return web.Response(status=204)


def _owner(request: web.Request) -> str | None:
    return read_query(request.query, DiskOwnerQuery).owner or None
