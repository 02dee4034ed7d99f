"""The console's Buckets page: list the buckets the caller may read, create one (name
optional), delete one (a non-empty bucket is the service's 409, shown as its message), and
turn anonymous read access on or off. Everything goes through `BucketsService`, whose
permission checks are the API's (docs/protocol.md §8.4); sharing is the common sharing page."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from ..api.openapi import describe
from ..buckets.keys import BUCKETS
from .context import caller
from .jobs_pages import _hidden
from .markup import cells, csrf_field, h, post_button, redirect, table, when

# The console's resource pages share one way to frame a page, read a form, name the cluster
# and link to the sharing page.
from .resources_handler import FORM, _cluster, _form, _html, _sharing_link

routes = web.RouteTableDef()


class BucketForm(BaseModel):
    csrf: str | None = None
    name: str | None = None


class BucketActionForm(BaseModel):
    csrf: str | None = None
    id: str | None = None
    public: str | None = None


@routes.get("/buckets")
async def buckets_page(request: web.Request) -> web.Response:
    """The buckets the caller may read"""
    who = caller(request)
    buckets = await request.config_dict[BUCKETS].readable(who.name, _cluster(request))
    rows = [
        cells(
            h(b.name or "–"),
            f"<code>{h(b.id)}</code>",
            h(b.owner),
            when(b.created_at),
            "public" if b.public else "private",
            h(b.provider),
            _sharing_link(b.uri())
            + " "
            + post_button(
                "/console/buckets/public",
                "Make private" if b.public else "Make public",
                who.csrf,
                id_=f"public-{b.id}",
                extra=_hidden(id=b.id, public="false" if b.public else "true"),
            )
            + " "
            + post_button(
                "/console/buckets/remove",
                "Delete",
                who.csrf,
                id_=f"remove-{b.id}",
                extra=_hidden(id=b.id),
            ),
        )
        for b in sorted(buckets, key=lambda b: (b.owner, b.name or "", b.id))
    ]
    headings = ("Name", "Id", "Owner", "Created", "Access", "Provider", "")
    body = (
        table(headings, rows, id_="buckets", empty="No buckets.")
        + '<h2>Create a bucket</h2><form method="post" action="/console/buckets" '
        'class="stacked" id="bucket-form">'
        + csrf_field(who.csrf)
        + '<label>Name (optional) <input name="name" id="bucket-name"></label>'
        '<button type="submit" id="create-bucket">Create</button></form>'
        "<p class='note'>Only an empty bucket can be deleted: remove its blobs first "
        "(<code>neuro blob rm</code>).</p>"
    )
    return _html("Buckets", body, request)


@routes.post("/buckets")
@describe("Create a bucket", body=BucketForm, media_type=FORM)
async def create_bucket(request: web.Request) -> web.Response:
    form = await _form(request)
    name = form.get("name", "").strip() or None
    await request.config_dict[BUCKETS].create(caller(request).name, _cluster(request), name, None)
    return redirect("/console/buckets")


@routes.post("/buckets/remove")
@describe("Delete an empty bucket", body=BucketActionForm, media_type=FORM)
async def remove_bucket(request: web.Request) -> web.Response:
    form = await _form(request)
    await request.config_dict[BUCKETS].remove(
        caller(request).name, _cluster(request), form.get("id", ""), None
    )
    return redirect("/console/buckets")


@routes.post("/buckets/public")
@describe("Turn a bucket's anonymous read access on or off", body=BucketActionForm, media_type=FORM)
async def set_public(request: web.Request) -> web.Response:
    form = await _form(request)
    public = form.get("public", "")
    if public not in ("true", "false"):
        raise web.HTTPBadRequest(reason="public must be true or false")
    await request.config_dict[BUCKETS].set_public(
        caller(request).name, _cluster(request), form.get("id", ""), None, public == "true"
    )
    return redirect("/console/buckets")
