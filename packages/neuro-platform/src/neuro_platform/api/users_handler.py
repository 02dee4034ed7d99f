"""The parts of the users API (wire spec 7) other platform services rely on."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..permissions import Permission, PermissionDeniedError
from ..permissions.actions import Action
from ..permissions.uris import parse_uri
from .errors import BadRequestError
from .keys import AUTHENTICATOR, PERMISSIONS, USERS

routes = web.RouteTableDef()


def _role_name(request: web.Request) -> str:
    # The SDK writes `/` in role names as `:` inside URL segments.
    return request.match_info["name"].replace(":", "/")


async def _require_self(request: web.Request, name: str) -> str:
    """Users may ask about themselves; asking about another role needs manage on it."""
    caller = await request.config_dict[AUTHENTICATOR].required_user(request)
    if caller != name:
        await request.config_dict[PERMISSIONS].require(
            caller, [Permission.of(f"role://{name}", "manage")]
        )
    return caller


@routes.get("/users/{name}")
async def get_user(request: web.Request) -> web.Response:
    name = _role_name(request)
    await _require_self(request, name)
    if await request.config_dict[USERS].get(name) is None:
        raise web.HTTPNotFound(reason=f"user {name!r} not found")
    return web.json_response({"name": name})


@routes.post("/users/{name}/permissions/check")
async def check_permissions(request: web.Request) -> web.Response:
    name = _role_name(request)
    await _require_self(request, name)
    permissions = _parse_permissions(await request.json())
    missing = await request.config_dict[PERMISSIONS].check(name, permissions)
    if missing:
        raise PermissionDeniedError(missing)
    return web.json_response({"missing": []})


@routes.get("/users/{name}/permissions/tree")
async def permission_tree(request: web.Request) -> web.Response:
    name = _role_name(request)
    await _require_self(request, name)
    uri = request.query.get("uri")
    if not uri:
        raise BadRequestError("query parameter 'uri' is required")
    tree = await request.config_dict[PERMISSIONS].tree(name, parse_uri(uri))
    return web.json_response(tree.to_json())


def _parse_permissions(body: Any) -> list[Permission]:
    if not isinstance(body, list) or not body:
        raise BadRequestError("expected a non-empty JSON list of {uri, action}")
    permissions = []
    for item in body:
        if not isinstance(item, dict) or not isinstance(item.get("uri"), str):
            raise BadRequestError("each permission needs a string 'uri' and an 'action'")
        action = item.get("action")
        if action not in {a.value for a in Action}:
            raise BadRequestError(f"unknown action {action!r}")
        permissions.append(Permission.of(item["uri"], action))
    return permissions
