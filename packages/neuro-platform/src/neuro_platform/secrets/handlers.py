"""HTTP handlers of `secrets_url` (docs/protocol.md §8.1): thin, the rules are in the service."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ..api.keys import AUTHENTICATOR
from ..api.openapi import describe
from ..api.validation import read_json, read_query
from ..permissions.uris import org_from_wire
from .entities import SecretRef
from .keys import SECRETS, SECRETS_CLUSTER

routes = web.RouteTableDef()


class SecretBody(BaseModel):
    model_config = ConfigDict(strict=True)

    key: Annotated[str, Field(max_length=1024)]
    value: Annotated[str, Field(description="the secret, base64")]
    org_name: Annotated[str, Field(max_length=1024)] | None = None


class SecretOrgQuery(BaseModel):
    org_name: Annotated[str, Field(max_length=1024)] | None = None


@routes.get("")
async def list_secrets(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    refs = await request.config_dict[SECRETS].readable(user, request.app[SECRETS_CLUSTER])
    return web.json_response([_to_json(ref) for ref in refs])


@routes.post("")
@describe("Add or replace a secret", body=SecretBody)
async def add_secret(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    body = await read_json(request, SecretBody)
    key, org = body.key, body.org_name
    try:
        value = base64.b64decode(body.value, validate=True)
    except binascii.Error as e:
        raise ValueError("value must be base64") from e
    ref = SecretRef(request.app[SECRETS_CLUSTER], org_from_wire(org), user, key)
    await request.config_dict[SECRETS].add(user, ref, value)
    return web.json_response(_to_json(ref), status=201)


@routes.delete("/{key}")
@describe("Remove a secret", query=SecretOrgQuery)
async def remove_secret(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    org = org_from_wire(read_query(request.query, SecretOrgQuery).org_name)
    ref = SecretRef(request.app[SECRETS_CLUSTER], org, user, request.match_info["key"])
    await request.config_dict[SECRETS].remove(user, ref)
    return web.Response(status=204)


def _to_json(ref: SecretRef) -> dict[str, str | None]:
    return {"key": ref.key, "owner": ref.owner, "org_name": ref.org_name}
