"""HTTP handlers of `secrets_url` (wire spec 8.1): thin, the rules are in the service."""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from ..api.keys import AUTHENTICATOR
from .keys import SECRETS, SECRETS_CLUSTER
from .repository import SecretRef
from .service import SecretNotFoundError

routes = web.RouteTableDef()


@routes.get("")
async def list_secrets(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    refs = await request.config_dict[SECRETS].readable(user, request.app[SECRETS_CLUSTER])
    return web.json_response([_to_json(ref) for ref in refs])


@routes.post("")
async def add_secret(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("the body must be an object")
    key, encoded, org = body.get("key"), body.get("value"), body.get("org_name")
    if not isinstance(key, str) or not isinstance(encoded, str):
        raise ValueError("key and value (base64) are required")
    if org is not None and not isinstance(org, str):
        raise ValueError("org_name must be a string or null")
    try:
        value = base64.b64decode(encoded, validate=True)
    except binascii.Error as e:
        raise ValueError("value must be base64") from e
    ref = SecretRef(request.app[SECRETS_CLUSTER], org or None, user, key)
    await request.config_dict[SECRETS].add(user, ref, value)
    return web.json_response(_to_json(ref), status=201)


@routes.delete("/{key}")
async def remove_secret(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    org = request.query.get("org_name") or None
    ref = SecretRef(request.app[SECRETS_CLUSTER], org, user, request.match_info["key"])
    try:
        await request.config_dict[SECRETS].remove(user, ref)
    except SecretNotFoundError as e:
        raise web.HTTPNotFound(reason=str(e)) from e
    return web.Response(status=204)


def _to_json(ref: SecretRef) -> dict[str, str | None]:
    return {"key": ref.key, "owner": ref.owner, "org_name": ref.org_name}
