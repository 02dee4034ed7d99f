"""HTTP handlers of `disks_url` (wire spec 8.2)."""

from __future__ import annotations

import json
from datetime import timedelta

from aiohttp import web

from ..api.keys import AUTHENTICATOR
from .keys import DISKS, DISKS_CLUSTER
from .repository import DiskNameTakenError
from .service import DiskNotFoundError, DiskOverLimitError

routes = web.RouteTableDef()


@routes.get("")
async def list_disks(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    disks = await request.config_dict[DISKS].readable(user, request.app[DISKS_CLUSTER])
    return web.json_response([d.to_json() for d in disks])


@routes.post("")
async def create_disk(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("the body must be an object")
    storage, life_span = body.get("storage"), body.get("life_span")
    name, org = body.get("name"), body.get("org_name")
    if not isinstance(storage, int) or isinstance(storage, bool):
        raise ValueError("storage (bytes) must be an integer")
    if life_span is not None and (
        not isinstance(life_span, int | float) or isinstance(life_span, bool)
    ):
        raise ValueError("life_span must be a number of seconds or null")
    if name is not None and not isinstance(name, str):
        raise ValueError("name must be a string or null")
    if org is not None and not isinstance(org, str):
        raise ValueError("org_name must be a string or null")
    try:
        disk = await request.config_dict[DISKS].create(
            user,
            request.app[DISKS_CLUSTER],
            org or None,
            storage,
            name,
            None if life_span is None else timedelta(seconds=life_span),
        )
    except DiskOverLimitError as e:
        raise _coded(web.HTTPForbidden, "over_limit", str(e)) from e
    except DiskNameTakenError as e:
        raise _coded(web.HTTPConflict, "unique_violation", str(e)) from e
    return web.json_response(disk.to_json(), status=201)


@routes.get("/{disk}")
async def get_disk(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    try:
        disk = await request.config_dict[DISKS].get(
            user, request.app[DISKS_CLUSTER], request.match_info["disk"], _owner(request)
        )
    except DiskNotFoundError as e:
        raise web.HTTPNotFound(reason=str(e)) from e
    return web.json_response(disk.to_json())


@routes.delete("/{disk}")
async def remove_disk(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    try:
        await request.config_dict[DISKS].remove(
            user, request.app[DISKS_CLUSTER], request.match_info["disk"], _owner(request)
        )
    except DiskNotFoundError as e:
        raise web.HTTPNotFound(reason=str(e)) from e
    return web.Response(status=204)


def _owner(request: web.Request) -> str | None:
    return request.query.get("owner") or None


def _coded(kind: type[web.HTTPException], code: str, description: str) -> web.HTTPException:
    # The original disk service answers in marshmallow's shape for these (wire spec 9).
    body = json.dumps({"code": code, "description": description})
    return kind(text=body, content_type="application/json")
