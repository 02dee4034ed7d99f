"""The users API (docs/protocol.md §7): permissions, sharing, roles.

Reading a user's permissions, shares and subroles is for that user and for whoever manages
`role://<user>`; the sharing rules themselves live in `permissions.sharing`.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

from ..api.errors import BadRequestError
from ..api.keys import AUTHENTICATOR, PERMISSIONS, SHARING, USERS
from ..api.openapi import describe
from ..api.validation import read_json, read_json_as, read_query
from ..errors import NotFoundError
from ..permissions import Permission, PermissionDeniedError
from ..permissions.actions import Action
from ..permissions.uris import ResourceUri, parse_uri

routes = web.RouteTableDef()
ACTIONS = [a.value for a in Action]
MAX_URI = 4096


def _known_action(value: str) -> str:
    if value not in ACTIONS:
        raise ValueError(f"unknown action {value!r}")
    return value


class PermissionBody(BaseModel):
    model_config = ConfigDict(strict=True)

    uri: Annotated[str, Field(max_length=MAX_URI)]
    action: Annotated[
        str, AfterValidator(_known_action), Field(json_schema_extra={"enum": ACTIONS})
    ]


PERMISSIONS_BODY = TypeAdapter(
    Annotated[list[PermissionBody], Field(min_length=1, max_length=1000)]
)


class RoleBody(BaseModel):
    model_config = ConfigDict(strict=True)

    name: Annotated[str, Field(max_length=1024)]


class UriQuery(BaseModel):
    uri: Annotated[str, Field(max_length=MAX_URI)] | None = None


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
        raise NotFoundError(f"user {name!r} not found")
    return web.json_response({"name": name})


@routes.post("/users/{name}/permissions/check")
@describe("Which of these permissions does the user miss", body=list[PermissionBody])
async def check_permissions(request: web.Request) -> web.Response:
    name = _role_name(request)
    await _require_self(request, name)
    permissions = await _read_permissions(request)
    missing = await request.config_dict[PERMISSIONS].check(name, permissions)
    if missing:
        raise PermissionDeniedError(missing)
    return web.json_response({"missing": []})


@routes.get("/users/{name}/permissions/tree")
@describe("The tree of what the user may access below a URI", query=UriQuery)
async def permission_tree(request: web.Request) -> web.Response:
    name = _role_name(request)
    await _require_self(request, name)
    uri = read_query(request.query, UriQuery).uri
    if not uri:
        raise BadRequestError("query parameter 'uri' is required")
    tree = await request.config_dict[PERMISSIONS].tree(name, parse_uri(uri))
    return web.json_response(tree.to_json())


@routes.get("/users/{name}/permissions")
@describe("The user's permissions", query=UriQuery)
async def list_permissions(request: web.Request) -> web.Response:
    name = _role_name(request)
    await _require_self(request, name)
    permissions = await request.config_dict[SHARING].permissions_of(name, _uri_filter(request))
    return web.json_response([p.to_json() for p in permissions])


@routes.get("/users/{name}/permissions/shared")
@describe("What the user shared", query=UriQuery)
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
@describe("Share permissions with a user or role", body=list[PermissionBody])
async def share(request: web.Request) -> web.Response:
    receiver = _role_name(request)
    caller = await request.config_dict[AUTHENTICATOR].required_user(request)
    permissions = await _read_permissions(request)
    granted = await request.config_dict[SHARING].share(caller, receiver, permissions)
    # Clients insist on 201 (docs/protocol.md §7).
    return web.json_response([p.to_json() for p in granted], status=201)


@routes.delete("/users/{name}/permissions")
@describe("Revoke a share", query=UriQuery)
async def revoke(request: web.Request) -> web.Response:
    receiver = _role_name(request)
    caller = await request.config_dict[AUTHENTICATOR].required_user(request)
    uri = _uri_filter(request)
    if uri is None:
        raise BadRequestError("query parameter 'uri' is required")
    await request.config_dict[SHARING].revoke(caller, receiver, uri)
    return web.Response(status=204)


@routes.post("/users")
@describe("Create a role", body=RoleBody)
async def add_role(request: web.Request) -> web.Response:
    caller = await request.config_dict[AUTHENTICATOR].required_user(request)
    name = (await read_json(request, RoleBody)).name
    await request.config_dict[SHARING].add_role(caller, name)
    return web.json_response({"name": name}, status=201)


@routes.delete("/users/{name}")
async def remove_role(request: web.Request) -> web.Response:
    name = _role_name(request)
    caller = await request.config_dict[AUTHENTICATOR].required_user(request)
    await request.config_dict[SHARING].remove_role(caller, name)
    return web.Response(status=204)


def _uri_filter(request: web.Request) -> ResourceUri | None:
    uri = read_query(request.query, UriQuery).uri
    return parse_uri(uri) if uri else None


async def _read_permissions(request: web.Request) -> list[Permission]:
    body = await read_json_as(request, PERMISSIONS_BODY)
    return [Permission.of(item.uri, item.action) for item in body]
