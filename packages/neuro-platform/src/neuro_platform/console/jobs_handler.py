"""The console's jobs pages: list (live), a job's page (live status, log, usage chart,
sharing), kill, life span, and the run form. Everything goes through `JobsService` and
`MonitoringService`, the services behind `/api/v1/jobs`, so the console shows and does exactly
what the API allows the caller.

The usage chart reads the samples `monitoring/usage_history.py` keeps in memory (no query, no
engine call per page); its asking is what makes the sampler sample the job. Live updates cost
at most one query per open page per poll (every 2 s): the live parts answer with an ETag made
of the jobs' revision (`JobsService.revision`, which changes with every write of a job), the
permission generation and the minute (ages are shown in minutes); the browser asks again with
`If-None-Match` and an unchanged answer is a 304 without any query.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel

from ..api.errors import status_and_body
from ..api.keys import SETTINGS, SHARING
from ..api.openapi import describe
from ..jobs.entities import Job, JobStatus
from ..jobs.host_names import http_url
from ..jobs.keys import JOBS
from ..jobs.queries import JobQuery
from ..jobs.schema import HttpBody, JobSubmissionBody
from ..jobs.service import JobFilter
from ..jobs.submission import parse_submission
from ..monitoring.keys import MONITORING, USAGE_HISTORY
from ..monitoring.logs import LogOptions
from ..permissions.actions import Action
from ..permissions.cache import PRINCIPAL_CHANGES
from ..permissions.uris import parse_uri
from .context import caller
from .jobs_pages import (
    PAGE_SIZE,
    filters_form,
    job_page_body,
    jobs_table,
    run_form,
    status_part,
)
from .markup import page, redirect

routes = web.RouteTableDef()
MAX_PAGE = 100_000
MIB = 2**20


class JobsQuery(BaseModel):
    status: str | None = None
    name: str | None = None
    tag: str | None = None
    owner: str | None = None
    page: str | None = None


class TopQuery(BaseModel):
    since: str | None = None


class LifeSpanForm(BaseModel):
    csrf: str | None = None
    minutes: str | None = None


class RunForm(BaseModel):
    csrf: str | None = None
    preset: str | None = None
    image: str | None = None
    command: str | None = None
    name: str | None = None
    tags: str | None = None
    life_span: str | None = None
    http_port: str | None = None


def _html(text: str, *, etag: str | None = None, status: int = 200) -> web.Response:
    response = web.Response(text=text, content_type="text/html", status=status)
    if etag is not None:
        # Revalidated on every poll: the browser's cache answers the poll with the page
        # it has when the server says 304.
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = "private, no-cache"
    return response


def _etag(request: web.Request, *parts: object) -> str:
    """Same tag, same page: who asks, what they ask, and whatever a page shows depends on."""
    jobs = request.config_dict[JOBS]
    minute = int(time.time() // 60)
    key = json.dumps(
        [
            caller(request).name,
            request.path_qs,
            jobs.revision,
            PRINCIPAL_CHANGES.generation,
            minute,
            *map(str, parts),
        ]
    )
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def _not_modified(request: web.Request, etag: str) -> bool:
    return request.headers.get("If-None-Match") == etag


def _query(request: web.Request) -> dict[str, str]:
    return {k: request.query[k] for k in ("status", "name", "tag", "owner") if request.query.get(k)}


def _page_number(request: web.Request) -> int:
    text = request.query.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise ValueError("page must be a positive integer")
    return int(text)


async def _jobs_table(request: web.Request) -> str:
    query = _query(request)
    status = query.get("status")
    if status is not None and status not in set(JobStatus):
        raise ValueError(f"status must be one of: {', '.join(JobStatus)}")
    page_number = _page_number(request)
    job_filter = JobFilter(
        JobQuery(
            statuses=[JobStatus(status)] if status else (),
            owners=[query["owner"]] if "owner" in query else (),
            name=query.get("name"),
            reverse=True,
        ),
        tags=frozenset([query["tag"]]) if "tag" in query else frozenset(),
    )
    start = (page_number - 1) * PAGE_SIZE
    shown: list[Job] = []
    total = 0  # the listing streams: keep the page, count the rest
    async for job in await request.config_dict[JOBS].list(caller(request).name, job_filter):
        if start <= total < start + PAGE_SIZE:
            shown.append(job)
        total += 1
    minute_s = request.config_dict[SETTINGS].jobs.life_span_minute_s
    return jobs_table(shown, total, page_number, query, datetime.now(UTC), minute_s)


@routes.get("/jobs")
@describe("The jobs page", query=JobsQuery)
async def jobs_page(request: web.Request) -> web.Response:
    who = caller(request)
    body = (
        '<p><a class="button" href="/console/run" id="run-link">Run a job</a></p>'
        + filters_form(_query(request))
        + await _jobs_table(request)
    )
    return _html(page("Jobs", body, user=who.name, csrf=who.csrf))


@routes.get("/jobs/rows")
@describe("The live part of the jobs page", query=JobsQuery)
async def jobs_rows(request: web.Request) -> web.Response:
    etag = _etag(request)
    if _not_modified(request, etag):
        return web.Response(
            status=304, headers={"ETag": etag, "Cache-Control": "private, no-cache"}
        )
    return _html(await _jobs_table(request), etag=etag)


@routes.get("/jobs/{id}")
async def job_page(request: web.Request) -> web.Response:
    """A job's page"""
    who = caller(request)
    job = await request.config_dict[JOBS].get(who.name, request.match_info["id"])
    settings = request.config_dict[SETTINGS]
    url = None
    if job.spec.container.http is not None:
        url = str(http_url(settings.public_url, settings.jobs.http_domain, job.id))
    shares = await request.config_dict[SHARING].shared_by(who.name, parse_uri(job.uri))
    body = job_page_body(
        job, datetime.now(UTC), settings.jobs.life_span_minute_s, who.csrf, url, shares
    )
    return _html(page(job.spec.name or job.id, body, user=who.name, csrf=who.csrf))


@routes.get("/jobs/{id}/status")
async def job_status(request: web.Request) -> web.Response:
    """The live part of a job's page"""
    who = caller(request)
    etag = _etag(request)
    if _not_modified(request, etag):
        return web.Response(
            status=304, headers={"ETag": etag, "Cache-Control": "private, no-cache"}
        )
    job = await request.config_dict[JOBS].get(who.name, request.match_info["id"])
    minute_s = request.config_dict[SETTINGS].jobs.life_span_minute_s
    return _html(status_part(job, datetime.now(UTC), minute_s, who.csrf), etag=etag)


@routes.get("/jobs/{id}/log")
async def job_log(request: web.Request) -> web.StreamResponse:
    """A job's output: followed while it runs, then the archived log"""
    monitoring = request.config_dict[MONITORING]
    job = await monitoring.job(caller(request).name, request.match_info["id"], Action.READ)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/plain; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    async for chunk in monitoring.logs(job, LogOptions(separator="")):
        await response.write(chunk)
    await response.write_eof()
    return response


@routes.get("/jobs/{id}/top")
@describe("A job's usage samples (CPU, memory, GPU) after `since`, for its chart", query=TopQuery)
async def job_top(request: web.Request) -> web.Response:
    job = await request.config_dict[JOBS].get(caller(request).name, request.match_info["id"])
    try:
        since = float(request.query.get("since", "0"))
    except ValueError:
        raise ValueError("since must be a number (unix seconds)") from None
    history = request.config_dict[USAGE_HISTORY]
    history.watch(job.id)  # the chart asks every 5 s while its page is open
    samples = [
        [
            s.time,
            s.cpu,
            s.memory_bytes / MIB,
            s.gpu_duty_cycle,
            None if s.gpu_memory_bytes is None else s.gpu_memory_bytes / MIB,
        ]
        for s in history.samples(job.id)
        if s.time > since
    ]
    body = {"status": str(job.status), "finished": job.is_finished, "samples": samples}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


@routes.post("/jobs/{id}/kill")
async def kill(request: web.Request) -> web.Response:
    """Kill a job"""
    job = await request.config_dict[JOBS].kill(caller(request).name, request.match_info["id"])
    return redirect(f"/console/jobs/{job.id}")


@routes.post("/jobs/{id}/life-span")
@describe(
    "Give a job more minutes", body=LifeSpanForm, media_type="application/x-www-form-urlencoded"
)
async def bump_life_span(request: web.Request) -> web.Response:
    form = await request.post()
    minutes = str(form.get("minutes", ""))
    if not minutes.isdigit() or not 1 <= int(minutes) <= 10**6:
        raise ValueError("minutes must be a positive integer")
    job = await request.config_dict[JOBS].bump_life_span(
        caller(request).name, request.match_info["id"], additional=int(minutes), absolute=None
    )
    return redirect(f"/console/jobs/{job.id}")


@routes.get("/run")
async def run_page(request: web.Request) -> web.Response:
    """The form to run a job"""
    who = caller(request)
    clusters = request.config_dict[SETTINGS].clusters
    return _html(page("Run a job", run_form(clusters, who.csrf), user=who.name, csrf=who.csrf))


@routes.post("/run")
@describe(
    "Run a job from a preset and an image",
    body=RunForm,
    media_type="application/x-www-form-urlencoded",
)
async def run(request: web.Request) -> web.Response:
    who = caller(request)
    settings = request.config_dict[SETTINGS]
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    try:
        body = _submission_body(form)
        submission = parse_submission(body, from_preset=True, clusters=settings.clusters)
        job = await request.config_dict[JOBS].submit(who.name, submission)
    except ValueError as e:  # shown on the form, with what was typed kept
        _, answer = status_and_body(e)
        text = page(
            "Run a job",
            run_form(settings.clusters, who.csrf, str(answer.get("error", e))),
            user=who.name,
            csrf=who.csrf,
        )
        return _html(text, status=400)
    return redirect(f"/console/jobs/{job.id}")


def _submission_body(form: dict[str, str]) -> JobSubmissionBody:
    cluster, _, preset = form.get("preset", "").partition("/")
    fields: dict[str, object] = {
        "image": form.get("image", "").strip(),
        "cluster_name": cluster or None,
        "preset_name": preset or None,
    }
    if command := form.get("command", "").strip():
        fields["command"] = command
    if name := form.get("name", "").strip():
        fields["name"] = name
    if tags := form.get("tags", "").split():
        fields["tags"] = tags
    if life_span := form.get("life_span", "").strip():
        if not life_span.isdigit():
            raise ValueError("Life span must be a whole number of minutes")
        fields["max_run_time_minutes"] = int(life_span)
    if port := form.get("http_port", "").strip():
        if not port.isdigit():
            raise ValueError("HTTP port must be a number")
        fields["http"] = HttpBody.model_validate({"port": int(port)})
    return JobSubmissionBody.model_validate(fields)
