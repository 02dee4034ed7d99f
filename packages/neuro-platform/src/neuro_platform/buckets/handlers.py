"""HTTP handlers of `buckets_url` (docs/protocol.md §8.4): thin, the rules are in the service."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ..api.keys import AUTHENTICATOR
from ..api.openapi import describe
from ..api.validation import read_json, read_query
from ..permissions.uris import org_from_wire
from .entities import Bucket
from .keys import BUCKETS, BUCKETS_CLUSTER

routes = web.RouteTableDef()
NDJSON = "application/x-ndjson"
_Text = Annotated[str, Field(max_length=1024)]


class CreateBody(BaseModel):
    model_config = ConfigDict(strict=True)

    name: _Text | None = None
    org_name: _Text | None = None


class ImportBody(BaseModel):
    model_config = ConfigDict(strict=True)

    name: _Text | None = None
    org_name: _Text | None = None
    provider: _Text
    provider_bucket_name: _Text
    credentials: dict[_Text, _Text]


class PatchBody(BaseModel):
    model_config = ConfigDict(strict=True)

    public: bool


class SignBody(BaseModel):
    model_config = ConfigDict(strict=True)

    key: Annotated[str, Field(min_length=1, max_length=1024)]
    expires_in_sec: int = 3600


class CredentialsBody(BaseModel):
    model_config = ConfigDict(strict=True)

    name: _Text | None = None
    bucket_ids: Annotated[list[_Text], Field(max_length=1000)]
    read_only: bool = False


class OwnerQuery(BaseModel):
    owner: _Text | None = None


class PathQuery(BaseModel):
    path: _Text


@routes.get("/buckets")
async def list_buckets(request: web.Request) -> web.StreamResponse:
    user = await _user(request)
    buckets = await request.config_dict[BUCKETS].readable(user, request.app[BUCKETS_CLUSTER])
    return await _listing(request, [bucket_json(b) for b in buckets])


@routes.post("/buckets")
@describe("Create a bucket", body=CreateBody)
async def create_bucket(request: web.Request) -> web.Response:
    user = await _user(request)
    body = await read_json(request, CreateBody)
    bucket = await request.config_dict[BUCKETS].create(
        user, request.app[BUCKETS_CLUSTER], body.name, org_from_wire(body.org_name)
    )
    return web.json_response(bucket_json(bucket), status=201)


@routes.post("/buckets/import/external")
@describe("Import a bucket of another S3 endpoint", body=ImportBody)
async def import_bucket(request: web.Request) -> web.Response:
    user = await _user(request)
    body = await read_json(request, ImportBody)
    bucket = await request.config_dict[BUCKETS].import_external(
        user,
        request.app[BUCKETS_CLUSTER],
        name=body.name,
        org=org_from_wire(body.org_name),
        provider=body.provider,
        provider_bucket=body.provider_bucket_name,
        credentials=body.credentials,
    )
    return web.json_response(bucket_json(bucket), status=201)


@routes.get("/buckets/find/by_path")
@describe("The bucket a blob path is in", query=PathQuery)
async def find_by_path(request: web.Request) -> web.Response:
    user = await _user(request)
    path = read_query(request.query, PathQuery).path
    bucket = await request.config_dict[BUCKETS].find_by_path(
        user, request.app[BUCKETS_CLUSTER], path
    )
    return web.json_response(bucket_json(bucket))


@routes.get("/buckets/{bucket}")
@describe("Get a bucket", query=OwnerQuery)
async def get_bucket(request: web.Request) -> web.Response:
    user, owner = await _user(request), _owner(request)
    bucket = await request.config_dict[BUCKETS].get(
        user, request.app[BUCKETS_CLUSTER], request.match_info["bucket"], owner
    )
    return web.json_response(bucket_json(bucket))


@routes.delete("/buckets/{bucket}")
@describe("Remove an empty bucket (or forget an imported one)", query=OwnerQuery)
async def remove_bucket(request: web.Request) -> web.Response:
    user, owner = await _user(request), _owner(request)
    await request.config_dict[BUCKETS].remove(
        user, request.app[BUCKETS_CLUSTER], request.match_info["bucket"], owner
    )
    return web.Response(status=204)


@routes.patch("/buckets/{bucket}")
@describe("Set a bucket's public (anonymous read) access", query=OwnerQuery, body=PatchBody)
async def patch_bucket(request: web.Request) -> web.Response:
    user, owner = await _user(request), _owner(request)
    body = await read_json(request, PatchBody)
    bucket = await request.config_dict[BUCKETS].set_public(
        user, request.app[BUCKETS_CLUSTER], request.match_info["bucket"], owner, body.public
    )
    return web.json_response(bucket_json(bucket))


@routes.post("/buckets/{bucket}/make_tmp_credentials")
@describe("Expiring credentials for one bucket", query=OwnerQuery)
async def make_tmp_credentials(request: web.Request) -> web.Response:
    user, owner = await _user(request), _owner(request)
    credentials = await request.config_dict[BUCKETS].tmp_credentials(
        user, request.app[BUCKETS_CLUSTER], request.match_info["bucket"], owner
    )
    return web.json_response(credentials.to_json())


@routes.post("/buckets/{bucket}/sign_blob_url")
@describe("A presigned GET URL of one blob", query=OwnerQuery, body=SignBody)
async def sign_blob_url(request: web.Request) -> web.Response:
    user, owner = await _user(request), _owner(request)
    body = await read_json(request, SignBody)
    url = await request.config_dict[BUCKETS].sign_blob_url(
        user,
        request.app[BUCKETS_CLUSTER],
        request.match_info["bucket"],
        owner,
        body.key,
        body.expires_in_sec,
    )
    return web.json_response({"url": url})


@routes.get("/persistent_credentials")
async def list_credentials(request: web.Request) -> web.StreamResponse:
    user = await _user(request)
    found = await request.config_dict[BUCKETS].list_persistent(user, request.app[BUCKETS_CLUSTER])
    return await _listing(request, [c.to_json() for c in found])


@routes.post("/persistent_credentials")
@describe("Create credentials for several buckets", body=CredentialsBody)
async def create_credentials(request: web.Request) -> web.Response:
    user = await _user(request)
    body = await read_json(request, CredentialsBody)
    created = await request.config_dict[BUCKETS].create_persistent(
        user, request.app[BUCKETS_CLUSTER], body.name, body.bucket_ids, body.read_only
    )
    return web.json_response(created.to_json(), status=201)


@routes.get("/persistent_credentials/{credentials}")
async def get_credentials(request: web.Request) -> web.Response:
    user = await _user(request)
    found = await request.config_dict[BUCKETS].get_persistent(
        user, request.app[BUCKETS_CLUSTER], request.match_info["credentials"]
    )
    return web.json_response(found.to_json())


@routes.delete("/persistent_credentials/{credentials}")
async def remove_credentials(request: web.Request) -> web.Response:
    user = await _user(request)
    await request.config_dict[BUCKETS].remove_persistent(
        user, request.app[BUCKETS_CLUSTER], request.match_info["credentials"]
    )
    return web.Response(status=204)


def bucket_json(bucket: Bucket) -> dict[str, Any]:
    return {
        "id": bucket.id,
        "name": bucket.name,
        "owner": bucket.owner,
        "org_name": bucket.org_name,
        "provider": bucket.provider,
        "created_at": bucket.created_at.isoformat(),
        "imported": bucket.imported,
        "public": bucket.public,
    }


async def _user(request: web.Request) -> str:
    user: str = await request.config_dict[AUTHENTICATOR].required_user(request)
    return user


def _owner(request: web.Request) -> str | None:
    return read_query(request.query, OwnerQuery).owner or None


async def _listing(request: web.Request, items: Sequence[dict[str, Any]]) -> web.StreamResponse:
    if NDJSON not in request.headers.get("Accept", ""):
        return web.json_response(list(items))
    response = web.StreamResponse(headers={"Content-Type": NDJSON})
    await response.prepare(request)
    for item in items:
        await response.write(json.dumps(item).encode() + b"\n")
    await response.write_eof()
    return response
