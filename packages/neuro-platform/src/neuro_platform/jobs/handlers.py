"""HTTP handlers of `API/jobs` (docs/protocol.md §3.1-3.3): parse, call the service, shape the
answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic_core import to_json

from ..api.keys import AUTHENTICATOR, SETTINGS
from ..api.openapi import describe
from ..api.validation import read_json, read_query
from ..permissions.uris import org_from_wire
from .encoded import EncodedJobs
from .entities import Job, JobStatus
from .keys import ENCODED_JOBS, JOBS
from .queries import JobQuery
from .schema import JobListQuery, JobSubmissionBody, LifeSpanBody
from .service import JobFilter
from .submission import parse_submission
from .views import job_json

NDJSON = "application/x-ndjson"

routes = web.RouteTableDef()


@routes.post("")
@describe("Submit a job", body=JobSubmissionBody)
async def create_job(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    body = await read_json(request, JobSubmissionBody)
    submission = parse_submission(
        body,
        from_preset="from_preset" in request.query,
        clusters=request.config_dict[SETTINGS].clusters,
    )
    job = await request.config_dict[JOBS].submit(user, submission)
    return _job_response(request, job, status=202)


@routes.get("")
@describe("List jobs", query=JobListQuery)
async def list_jobs(request: web.Request) -> web.StreamResponse:
    """Streams the listing as the database yields it, in JSON (`{"jobs": [...]}`) or NDJSON:
    the answer starts with the first page, and memory holds one page, whatever the history.

    Each page is shaped and encoded in a worker thread, in one go: that is most of a
    listing's CPU, and on the event loop it would hold up every other request."""
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    read_query(request.query, JobListQuery)  # types and bounds; _job_filter reads the values
    job_filter = _job_filter(request)
    service = request.config_dict[JOBS]
    pages = _nothing() if job_filter is None else await service.pages(user, job_filter)
    ndjson = NDJSON in request.headers.get("Accept", "")
    # Everything that can fail with a 4xx has been checked: from here on the status is 200.
    response = web.StreamResponse(
        headers={"Content-Type": NDJSON if ndjson else "application/json; charset=utf-8"}
    )
    await response.prepare(request)
    view = _view(request)
    encoded = request.config_dict[ENCODED_JOBS]
    first = True
    async for page in pages:
        if not page:
            continue
        items = await asyncio.to_thread(_encode, page, view, encoded, ndjson)
        # Each write waits while the client is slow: memory stays at one page.
        if ndjson:
            await response.write(items)
        else:
            await response.write((b'{"jobs": [' if first else b",") + items)
        first = False
    if not ndjson:
        await response.write(b'{"jobs": []}' if first else b"]}")
    await response.write_eof()
    return response


def _encode(
    page: Sequence[Job], view: Callable[[Job], dict[str, Any]], encoded: EncodedJobs, ndjson: bool
) -> bytes:
    """The page as NDJSON lines, or as the members of a JSON array (without its brackets)."""

    def encode(job: Job) -> bytes:
        return to_json(view(job))

    items = [encoded.encoded(job, encode) for job in page]
    if ndjson:
        return b"".join([item + b"\n" for item in items])
    return b",".join(items)


async def _nothing() -> AsyncIterator[Sequence[Job]]:
    return
    yield  # an async generator that yields nothing


@routes.get("/{id}")
async def get_job(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    job = await request.config_dict[JOBS].get(user, request.match_info["id"])
    return _job_response(request, job)


@routes.delete("/{id}")
async def kill_job(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    await request.config_dict[JOBS].kill(user, request.match_info["id"])
    return web.Response(status=204)


@routes.put("/{id}/max_run_time_minutes")
@describe("Change a job's run time limit", body=LifeSpanBody)
async def bump_life_span(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    body = await read_json(request, LifeSpanBody)
    await request.config_dict[JOBS].bump_life_span(
        user,
        request.match_info["id"],
        additional=body.additional_max_run_time_minutes,
        absolute=body.max_run_time_minutes,
    )
    return web.Response(status=204)


def _job_response(request: web.Request, job: Job, status: int = 200) -> web.Response:
    """One job object, encoded by `to_json` as listings are (several times faster than
    `json.dumps`, which `web.json_response` uses: submissions and status polls answer
    one each)."""
    return web.Response(
        body=to_json(_view(request)(job)),
        status=status,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )


def _view(request: web.Request) -> Callable[[Job], dict[str, Any]]:
    """The job object of docs/protocol.md §3.5 for this request (one `now` for a listing)."""
    service = request.config_dict[JOBS]
    settings = request.config_dict[SETTINGS]
    now = datetime.now(UTC)
    # Once per request, not per job: a listing views thousands.
    public_url, http_domain = settings.public_url, settings.jobs.http_domain

    def view(job: Job) -> dict[str, Any]:
        return job_json(
            job,
            public_url=public_url,
            http_domain=http_domain,
            now=now,
            credits_per_hour=service.credits_per_hour(job),
        )

    return view


def _job_filter(request: web.Request) -> JobFilter | None:
    """None when the query cannot match anything."""
    query = request.query
    if _boolean(query, "being_dropped") or _boolean(query, "logs_removed"):
        return None  # jobs are never dropped here, and their logs are kept
    try:
        statuses = [JobStatus(s) for s in query.getall("status", [])]
    except ValueError:
        raise ValueError(f"status must be one of: {', '.join(JobStatus)}") from None
    limit = query.get("limit")
    if limit is not None and (not limit.isdigit() or int(limit) < 1):
        raise ValueError("limit must be a positive integer")
    return JobFilter(
        JobQuery(
            statuses=statuses,
            owners=query.getall("owner", []),
            name=query.get("name") or None,
            cluster_name=query.get("cluster_name") or None,
            org_name=org_from_wire(query.get("org_name")),
            filter_org="org_name" in query,
            since=_datetime(query.get("since"), "since"),
            until=_datetime(query.get("until"), "until"),
            reverse=_boolean(query, "reverse"),
        ),
        tags=frozenset(query.getall("tag", [])),
        limit=int(limit) if limit is not None else None,
    )


def _boolean(query: Any, key: str) -> bool:
    value = str(query.get(key, "0")).lower()
    if value not in ("0", "1", "false", "true"):
        raise ValueError(f"{key} must be one of 0, 1, false, true")
    return value in ("1", "true")


def _datetime(value: str | None, key: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{key} must be an ISO 8601 date and time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
