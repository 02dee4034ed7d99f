"""HTML of the jobs pages: the list's rows, a job's page, the run form."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlencode

from ..jobs.entities import Job, JobStatus
from ..permissions.sharing import Share
from ..settings import ClusterSettings
from .markup import cells, csrf_field, duration, h, post_button, table, url, when

PAGE_SIZE = 50
STATUS_CHOICES = ("", *(str(s) for s in JobStatus))


def life_span_left(job: Job, now: datetime, minute_s: float) -> str:
    minutes = job.spec.max_run_time_minutes
    if minutes is None:
        return "unlimited"
    if job.is_finished:
        return "–"
    return duration(timedelta(seconds=minutes * minute_s) - job.run_time(now))


def job_rows(jobs: Sequence[Job], now: datetime, minute_s: float) -> list[str]:
    return [
        cells(
            f'<a href="/console/jobs/{url(job.id)}">{h(job.spec.name or job.id)}</a>',
            f'<span class="status status-{h(job.status)}">{h(job.status)}</span>',
            h(job.spec.preset_name or "–"),
            h(job.owner),
            h(duration(now - job.created_at)),
            h(life_span_left(job, now, minute_s)),
            h(" ".join(job.spec.tags)),
        )
        for job in jobs
    ]


def jobs_table(
    jobs: Sequence[Job],
    total: int,
    page: int,
    query: dict[str, str],
    now: datetime,
    minute_s: float,
) -> str:
    """The live part of the jobs page: htmx asks for it again every 2 s (same query)."""
    rows_url = "/console/jobs/rows?" + urlencode({**query, "page": str(page)})
    pages = max(1, -(-total // PAGE_SIZE))
    links = []
    if page > 1:
        links.append(_page_link(query, page - 1, "← Newer", "prev"))
    links.append(f"<span>Page {page} of {pages} ({total} jobs)</span>")
    if page < pages:
        links.append(_page_link(query, page + 1, "Older →", "next"))
    headings = ("Job", "Status", "Preset", "Owner", "Age", "Life span left", "Tags")
    return (
        f'<div id="jobs-live" hx-get="{h(rows_url)}" hx-trigger="every 2s" hx-swap="outerHTML">'
        + table(headings, job_rows(jobs, now, minute_s), id_="jobs", empty="No jobs.")
        + f'<p class="pager">{" ".join(links)}</p></div>'
    )


def _page_link(query: dict[str, str], page: int, label: str, ident: str) -> str:
    target = "/console/jobs?" + urlencode({**query, "page": str(page)})
    return f'<a id="{ident}" href="{h(target)}">{h(label)}</a>'


def filters_form(query: dict[str, str]) -> str:
    options = "".join(
        f'<option value="{h(s)}"{" selected" if query.get("status", "") == s else ""}>'
        f"{h(s or 'any')}</option>"
        for s in STATUS_CHOICES
    )
    fields = "".join(
        f'<label>{h(label)} <input name="{key}" value="{h(query.get(key, ""))}"></label>'
        for key, label in (("name", "Name"), ("tag", "Tag"), ("owner", "Owner"))
    )
    return (
        '<form method="get" action="/console/jobs" class="filters" role="search">'
        f'<label>Status <select name="status">{options}</select></label>{fields}'
        '<button type="submit">Filter</button></form>'
    )


def status_part(job: Job, now: datetime, minute_s: float, csrf: str | None) -> str:
    """The live part of a job's page: status, history and the buttons that change it."""
    history = [
        cells(
            f'<span class="status status-{h(item.status)}">{h(item.status)}</span>',
            when(item.transition_time),
            h(item.reason or ""),
            h(item.description or ""),
            h("" if item.exit_code is None else item.exit_code),
        )
        for item in job.statuses
    ]
    actions = ""
    if not job.is_finished:
        actions = (
            '<div class="actions">'
            + post_button(f"/console/jobs/{job.id}/kill", "Kill", csrf, id_="kill")
            + f'<form method="post" action="/console/jobs/{url(job.id)}/life-span" class="inline">'
            + csrf_field(csrf)
            + '<label>Add minutes <input name="minutes" type="number" min="1" value="60" '
            'id="bump-minutes"></label><button type="submit" id="bump">Bump life span</button>'
            "</form></div>"
        )
    live = (
        ""
        if job.is_finished
        else f' hx-get="/console/jobs/{url(job.id)}/status" '
        'hx-trigger="every 2s" hx-swap="outerHTML"'
    )
    return (
        f'<section id="job-status"{live} data-status="{h(job.status)}">'
        f'<p>Status: <strong id="status">{h(job.status)}</strong> · '
        f"life span left: {h(life_span_left(job, now, minute_s))}</p>{actions}"
        + table(
            ("Status", "Since", "Reason", "Description", "Exit code"),
            history,
            id_="history",
            empty="",
        )
        + "</section>"
    )


def job_page_body(
    job: Job,
    now: datetime,
    minute_s: float,
    csrf: str | None,
    http_url: str | None,
    shares: Sequence[Share],
) -> str:
    spec = job.spec
    container = spec.container
    facts = [
        ("Id", h(job.id)),
        ("Name", h(spec.name or "–")),
        ("Owner", h(job.owner)),
        ("Image", h(container.image)),
        ("Command", f"<code>{h(container.command or '–')}</code>"),
        ("Preset", h(spec.preset_name or "–")),
        (
            "Resources",
            h(
                f"{container.resources.cpu} CPU, {container.resources.memory_mb} MiB, "
                f"{container.resources.gpu} GPU"
            ),
        ),
        ("Tags", h(" ".join(spec.tags) or "–")),
        ("Created", when(job.created_at)),
    ]
    if http_url is not None:
        facts.append(
            ("HTTP URL", f'<a id="http-url" href="{h(http_url)}" rel="noopener">{h(http_url)}</a>')
        )
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    volumes = (
        [
            cells(h(v.src_storage_uri), h(v.dst_path), "read-only" if v.read_only else "read-write")
            for v in container.volumes
        ]
        + [
            cells(h(v.src_disk_uri), h(v.dst_path), "read-only" if v.read_only else "read-write")
            for v in container.disk_volumes
        ]
        + [cells(h(v.src_secret_uri), h(v.dst_path), "secret") for v in container.secret_volumes]
    )
    return (
        f"<dl class='facts'>{dl}</dl>" + status_part(job, now, minute_s, csrf) + "<h2>Usage</h2>"
        f'<div id="chart" class="chart" data-src="/console/jobs/{url(job.id)}/top"></div>'
        '<p id="chart-note" class="note">CPU (cores), memory (MiB) and GPU (%), '
        "sampled every 5 s while a page shows the job.</p>" + "<h2>Log</h2>"
        f'<pre id="log" class="log" tabindex="0" data-src="/console/jobs/{url(job.id)}/log"></pre>'
        + "<h2>Volumes</h2>"
        + table(("Source", "Mounted at", "Mode"), volumes, id_="volumes", empty="No volumes.")
        + "<h2>Sharing</h2>"
        + sharing_section(job.uri, shares, csrf, back=f"/console/jobs/{job.id}")
    )


def sharing_section(uri: str, shares: Sequence[Share], csrf: str | None, *, back: str) -> str:
    rows = [
        cells(
            h(share.user),
            h(share.permission.action),
            post_button(
                "/console/revoke",
                "Revoke",
                csrf,
                id_=f"revoke-{share.user}",
                extra=_hidden(uri=str(share.permission.uri), user=share.user, back=back),
            ),
        )
        for share in shares
    ]
    choices = "".join(f'<option value="{a}">{a}</option>' for a in ("read", "write", "manage"))
    return (
        table(("User or role", "Permission", ""), rows, id_="shares", empty="Not shared.")
        + '<form method="post" action="/console/share" class="inline" id="share-form">'
        + csrf_field(csrf)
        + _hidden(uri=uri, back=back)
        + '<label>Share with <input name="user" id="share-user" required></label>'
        + f'<label>Permission <select name="action" id="share-action">{choices}</select></label>'
        + '<button type="submit" id="share">Share</button></form>'
    )


def _hidden(**fields: str) -> str:
    return "".join(f'<input type="hidden" name="{h(k)}" value="{h(v)}">' for k, v in fields.items())


def run_form(
    clusters: Sequence[ClusterSettings], csrf: str | None, error: str | None = None
) -> str:
    presets = "".join(
        f'<option value="{h(c.name)}/{h(p.name)}">{h(p.name)} ({h(c.name)}: {p.cpu} CPU, '
        f"{p.memory // 2**20} MiB{f', {p.gpu} GPU' if p.gpu else ''})</option>"
        for c in clusters
        for p in c.presets
    )
    alert = f'<p class="message" role="alert" id="error">{h(error)}</p>' if error else ""
    return (
        alert
        + '<form method="post" action="/console/run" class="stacked" id="run-form">'
        + csrf_field(csrf)
        + f'<label>Preset <select name="preset" id="preset">{presets}</select></label>'
        '<label>Image <input name="image" id="image" required '
        'placeholder="neuro-base/debian:bookworm"></label>'
        '<label>Command <input name="command" id="command" placeholder="python train.py"></label>'
        '<label>Name <input name="name" id="name"></label>'
        '<label>Tags (space separated) <input name="tags" id="tags"></label>'
        '<label>Life span, minutes <input name="life_span" id="life-span" type="number" '
        'min="1"></label>'
        '<label>HTTP port <input name="http_port" id="http-port" type="number" min="1" '
        'max="65535"></label>'
        '<button type="submit" id="run">Run</button></form>'
    )
