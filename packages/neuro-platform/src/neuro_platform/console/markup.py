"""The page frame and small HTML helpers. Every interpolated value goes through `h()` (HTML
escaping) or `url()` (percent-encoding of a path): pages are built from strings, and those two
are the only way text reaches them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from urllib.parse import quote

from aiohttp import web

# Scripts and styles come from the platform only, with no inline script or style attribute
# to allow: what a page shows cannot run as script even if escaping were ever missed.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# htmx's defaults that a strict CSP would refuse: its own indicator <style>, and eval.
HTMX_CONFIG = json.dumps(
    {"includeIndicatorStyles": False, "allowEval": False, "allowScriptTags": False}
)
NAV = (
    ("Jobs", "/console/jobs"),
    ("Run a job", "/console/run"),
    ("Storage", "/console/storage"),
    ("Secrets", "/console/secrets"),
    ("Disks", "/console/disks"),
    ("Buckets", "/console/buckets"),
    ("Service accounts", "/console/service-accounts"),
    ("Images", "/console/images"),
)


def h(value: object) -> str:
    return escape(str(value), quote=True)


def url(path: str) -> str:
    return h(quote(path, safe="/"))


def page(title: str, body: str, *, user: str | None, csrf: str | None) -> str:
    nav = ""
    if user is not None:
        links = "".join(f'<li><a href="{href}">{h(name)}</a></li>' for name, href in NAV)
        nav = f"""<nav aria-label="Main"><ul>{links}</ul>
<form method="post" action="/console/logout" class="logout">{csrf_field(csrf)}
<span id="user">{h(user)}</span> <button type="submit">Sign out</button></form></nav>"""
    headers = h(json.dumps({"X-CSRF-Token": csrf})) if csrf else "{}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{h(title)} · Neuro Platform</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="{h(HTMX_CONFIG)}">
<link rel="stylesheet" href="/console/static/console.css">
<link rel="stylesheet" href="/console/static/vendor/uPlot-1.6.31.min.css">
<script src="/console/static/vendor/htmx-2.0.4.min.js" defer></script>
<script src="/console/static/vendor/uPlot-1.6.31.iife.min.js" defer></script>
<script src="/console/static/console.js" defer></script>
</head>
<body hx-headers="{headers}">
<a class="skip" href="#main">Skip to content</a>
<header><a class="brand" href="/console/jobs">Neuro Platform</a>{nav}</header>
<main id="main"><h1>{h(title)}</h1>
{body}
</main>
</body>
</html>
"""


def csrf_field(csrf: str | None) -> str:
    return f'<input type="hidden" name="csrf" value="{h(csrf)}">' if csrf else ""


def table(headings: Sequence[str], rows: Iterable[str], *, id_: str, empty: str) -> str:
    head = "".join(f"<th scope='col'>{h(x)}</th>" for x in headings)
    body = "".join(rows) or f"<tr><td colspan='{len(headings)}'>{h(empty)}</td></tr>"
    return (
        f'<div class="scroll"><table id="{h(id_)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def cells(*values: str) -> str:
    """A row of already-escaped cells."""
    return "<tr>" + "".join(f"<td>{v}</td>" for v in values) + "</tr>"


def post_button(
    action: str, label: str, csrf: str | None, *, id_: str = "", extra: str = ""
) -> str:
    ident = f' id="{h(id_)}"' if id_ else ""
    return (
        f'<form method="post" action="{url(action)}" class="inline">{csrf_field(csrf)}{extra}'
        f'<button type="submit"{ident}>{h(label)}</button></form>'
    )


def size(n: int | None) -> str:
    if n is None:
        return "–"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{seconds}s"


def when(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f'<time datetime="{h(moment.isoformat())}">{h(text)}</time>'


def message(text: str, *, role: str = "status") -> str:
    return f'<p class="message" role="{h(role)}">{h(text)}</p>'


def redirect(location: str) -> web.Response:
    """303 See Other: after a form's POST the browser GETs the page it is sent to."""
    return web.Response(status=303, headers={"Location": location})
