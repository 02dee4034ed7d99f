"""The users API (wire spec 7): permissions, sharing, roles.

Reading a user's permissions, shares and subroles is for that user and for whoever manages
`role://<user>`; the sharing rules themselves live in `permissions.sharing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from ..permissions import (
    NothingToRevokeError,
    Permission,
    PermissionDeniedError,
    RoleExistsError,
    UnknownPrincipalError,
)
from ..permissions.actions import Action
from ..permissions.uris import ResourceUri, parse_uri
from .errors import BadRequestError
from .keys import AUTHENTICATOR, PERMISSIONS, SHARING, USERS

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


@routes.get("/users/{name}/permissions")
async def list_permissions(request: web.Request) -> web.Response:
    name = _role_name(request)
    await _require_self(request, name)
    permissions = await request.config_dict[SHARING].permissions_of(name, _uri_filter(request))
    return web.json_response([p.to_json() for p in permissions])


@routes.get("/users/{name}/permissions/shared")
async def list_shares(request: web.Request) -> web.Response:
    name = _role_name(request)
    await _require_self(request, name)
    shares = await request.config_dict[SHARING].shared_by(name, _uri_filter(request))
    return web.json_response([s.to_json() for s in shares])


@routes.get("/users/{name}/subroles")
async def list_subroles(request: web.Request) -> web.Response:
    name = _role_name(request)
    await _require_self(request, name)
    return web.json_response({"subroles": await request.config_dict[SHARING].subroles(name)})


@routes.post("/users/{name}/permissions")
async def share(request: web.Request) -> web.Response:
    receiver = _role_name(request)
    caller = await request.config_dict[AUTHENTICATOR].required_user(request)
    permissions = _parse_permissions(await request.json())
    with _sharing_errors():
        granted = await request.config_dict[SHARING].share(caller, receiver, permissions)
    # Clients insist on 201 (wire spec 7).
    return web.json_response([p.to_json() for p in granted], status=201)


@routes.delete("/users/{name}/permissions")
async def revoke(request: web.Request) -> web.Response:
    receiver = _role_name(request)
    caller = await request.config_dict[AUTHENTICATOR].required_user(request)
    uri = _uri_filter(request)
    if uri is None:
        raise BadRequestError("query parameter 'uri' is required")
    with _sharing_errors():
        await request.config_dict[SHARING].revoke(caller, receiver, uri)
    return web.Response(status=204)


@routes.post("/users")
async def add_role(request: web.Request) -> web.Response:
    caller = await request.config_dict[AUTHENTICATOR].required_user(request)
    body = await request.json()
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise BadRequestError('expected {"name": "<role>"}')
    name = body["name"]
    with _sharing_errors():
        await request.config_dict[SHARING].add_role(caller, name)
    return web.json_response({"name": name}, status=201)


@routes.delete("/users/{name}")
async def remove_role(request: web.Request) -> web.Response:
    name = _role_name(request)
    caller = await request.config_dict[AUTHENTICATOR].required_user(request)
    with _sharing_errors():
        await request.config_dict[SHARING].remove_role(caller, name)
    return web.Response(status=204)


@contextmanager
def _sharing_errors() -> Iterator[None]:
    try:
        yield
    except (UnknownPrincipalError, NothingToRevokeError) as e:
        raise web.HTTPNotFound(reason=str(e)) from e
    except RoleExistsError as e:
        raise web.HTTPConflict(reason=str(e)) from e


def _uri_filter(request: web.Request) -> ResourceUri | None:
    uri = request.query.get("uri")
    return parse_uri(uri) if uri else None


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
