"""The console's resource pages: secrets (names only; add and remove, a value never comes
back), disks, service accounts, the registry's images, and sharing/revoking any resource the
caller manages. Each goes through the service behind the matching API (`SecretsService`,
`DisksService`, `ServiceAccountsService`, `SharingService`, the registry's catalog)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel

from ..api.keys import SETTINGS, SHARING
from ..api.openapi import describe
from ..disks.keys import DISKS
from ..permissions import Permission
from ..permissions.uris import parse_uri
from ..registry.endpoint import readable_repositories
from ..registry.errors import RegistryError
from ..secrets.entities import SecretRef
from ..secrets.keys import SECRETS
from ..service_accounts.keys import SERVICE_ACCOUNTS
from .context import caller
from .jobs_pages import sharing_section
from .markup import (
    cells,
    csrf_field,
    duration,
    h,
    message,
    page,
    post_button,
    redirect,
    size,
    table,
    when,
)

routes = web.RouteTableDef()
FORM = "application/x-www-form-urlencoded"


class SecretForm(BaseModel):
    csrf: str | None = None
    key: str | None = None
    value: str | None = None


class ShareForm(BaseModel):
    csrf: str | None = None
    uri: str | None = None
    user: str | None = None
    action: str | None = None
    back: str | None = None


class SharingQuery(BaseModel):
    uri: str | None = None


def _html(title: str, body: str, request: web.Request) -> web.Response:
    who = caller(request)
    return web.Response(
        text=page(title, body, user=who.name, csrf=who.csrf), content_type="text/html"
    )


def _cluster(request: web.Request) -> str:
    return request.config_dict[SETTINGS].clusters[0].name


def _sharing_link(uri: str) -> str:
    return f'<a href="/console/sharing?uri={h(quote(uri, safe=""))}">Sharing</a>'


async def _form(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


@routes.get("/secrets")
async def secrets_page(request: web.Request) -> web.Response:
    """The caller's secrets (names only)"""
    who = caller(request)
    refs = await request.config_dict[SECRETS].readable(who.name, _cluster(request))
    rows = [
        cells(
            f'<span class="secret-key">{h(ref.key)}</span>',
            h(ref.owner),
            _sharing_link(ref.uri)
            + " "
            + post_button(
                "/console/secrets/remove",
                "Remove",
                who.csrf,
                id_=f"remove-{ref.key}",
                extra=f'<input type="hidden" name="key" value="{h(ref.key)}">',
            ),
        )
        for ref in sorted(refs, key=lambda r: (r.owner, r.key))
    ]
    body = (
        table(("Name", "Owner", ""), rows, id_="secrets", empty="No secrets.")
        + '<h2>Add a secret</h2><form method="post" action="/console/secrets" class="stacked" '
        'id="secret-form">'
        + csrf_field(who.csrf)
        + '<label>Name <input name="key" id="secret-key" required></label>'
        '<label>Value <input name="value" id="secret-value" type="password" '
        'autocomplete="off" required></label>'
        '<button type="submit" id="add-secret">Add</button></form>'
    )
    return _html("Secrets", body, request)


@routes.post("/secrets")
@describe("Add a secret", body=SecretForm, media_type=FORM)
async def add_secret(request: web.Request) -> web.Response:
    who = caller(request)
    form = await _form(request)
    ref = SecretRef(_cluster(request), None, who.name, form.get("key", ""))
    await request.config_dict[SECRETS].add(who.name, ref, form.get("value", "").encode())
    return redirect("/console/secrets")


@routes.post("/secrets/remove")
@describe("Remove a secret", body=SecretForm, media_type=FORM)
async def remove_secret(request: web.Request) -> web.Response:
    who = caller(request)
    form = await _form(request)
    ref = SecretRef(_cluster(request), None, who.name, form.get("key", ""))
    await request.config_dict[SECRETS].remove(who.name, ref)
    return redirect("/console/secrets")


@routes.get("/disks")
async def disks_page(request: web.Request) -> web.Response:
    """The caller's disks"""
    who = caller(request)
    disks = await request.config_dict[DISKS].readable(who.name, _cluster(request))
    now = datetime.now(UTC)
    rows = [
        cells(
            h(d.name or d.id),
            h(d.owner),
            h(size(d.storage)),
            h(size(d.used_bytes)),
            h(d.status),
            when(d.last_usage),
            h("–" if d.life_span is None else duration(d.life_span)),
            h(duration(now - d.created_at)),
            _sharing_link(d.uri),
        )
        for d in disks
    ]
    headings = ("Disk", "Owner", "Size", "Used", "Status", "Last used", "Life span", "Age", "")
    return _html("Disks", table(headings, rows, id_="disks", empty="No disks."), request)


@routes.get("/service-accounts")
async def service_accounts_page(request: web.Request) -> web.Response:
    """The caller's service accounts"""
    who = caller(request)
    accounts = await request.config_dict[SERVICE_ACCOUNTS].list(who.name)
    rows = [
        cells(
            h(a.name or a.id),
            h(a.role),
            h(a.default_cluster),
            when(a.created_at),
            "deleted" if deleted else "active",
        )
        for a, deleted in accounts
    ]
    headings = ("Account", "Role", "Default cluster", "Created", "State")
    return _html(
        "Service accounts",
        table(headings, rows, id_="service-accounts", empty="No service accounts."),
        request,
    )


@routes.get("/images")
async def images_page(request: web.Request) -> web.Response:
    """The images of the platform's registry the caller may read"""
    who = caller(request)
    settings = request.config_dict[SETTINGS]
    cluster = settings.clusters[0]
    try:
        names = await readable_repositories(request, cluster, who.name)
    except RegistryError as e:  # the registry is starting or down: say so, not a 500
        return _html(
            "Images", message(f"The image registry is unavailable: {e}", role="alert"), request
        )
    rows = [
        cells(
            f"<code>image://{h(cluster.name)}/{h(name)}</code>",
            _sharing_link(f"image://{cluster.name}/{name}"),
        )
        for name in names
    ]
    body = (
        table(("Image", ""), rows, id_="images", empty="No images.")
        + "<p class='note'>Push with <code>neuro image push</code>; see the images page of the "
        "documentation.</p>"
    )
    return _html("Images", body, request)


@routes.get("/sharing")
@describe("Who holds what on a resource the caller owns", query=SharingQuery)
async def sharing_page(request: web.Request) -> web.Response:
    who = caller(request)
    uri = parse_uri(request.query.get("uri", ""))
    shares = await request.config_dict[SHARING].shared_by(who.name, uri)
    body = f"<p>Resource: <code>{h(uri)}</code></p>" + sharing_section(
        str(uri), shares, who.csrf, back=f"/console/sharing?uri={quote(str(uri), safe='')}"
    )
    return _html("Sharing", body, request)


@routes.post("/share")
@describe("Share a resource", body=ShareForm, media_type=FORM)
async def share(request: web.Request) -> web.Response:
    form = await _form(request)
    permission = Permission.of(form.get("uri", ""), form.get("action", ""))
    await request.config_dict[SHARING].share(
        caller(request).name, form.get("user", ""), [permission]
    )
    return redirect(_back(form))


@routes.post("/revoke")
@describe("Revoke someone's permission on a resource", body=ShareForm, media_type=FORM)
async def revoke(request: web.Request) -> web.Response:
    form = await _form(request)
    uri = parse_uri(form.get("uri", ""))
    await request.config_dict[SHARING].revoke(caller(request).name, form.get("user", ""), uri)
    return redirect(_back(form))


def _back(form: dict[str, str]) -> str:
    """Back to the page the form was on; never off the console."""
    back = form.get("back", "")
    return (
        back
        if back.startswith("/console/") and not back.startswith("/console//")
        else "/console/jobs"
    )
