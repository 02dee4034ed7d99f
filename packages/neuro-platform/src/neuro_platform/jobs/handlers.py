"""HTTP handlers of `API/jobs` (docs/protocol.md §3.1-3.3): parse, call the service, shape the
answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ..api.keys import AUTHENTICATOR, SETTINGS
from ..api.openapi import describe
from ..api.validation import read_json, read_query
from ..permissions.uris import org_from_wire
from .entities import Job, JobStatus
from .keys import JOBS
from .queries import JobQuery
from .schema import JobListQuery, JobSubmissionBody, LifeSpanBody
from .service import JobFilter
from .submission import parse_submission
from .views import job_json

NDJSON = "application/x-ndjson"
# A listing goes out in chunks of about this size: few writes, yet the first job goes out
# before the next page is read.
FLUSH_BYTES = 64 * 1024

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
    return web.json_response(_json(request, job), status=202)


@routes.get("")
@describe("List jobs", query=JobListQuery)
async def list_jobs(request: web.Request) -> web.StreamResponse:
    """Streams the listing as the database yields it, in JSON (`{"jobs": [...]}`) or NDJSON:
    the answer starts with the first page, and memory holds one page, whatever the history."""
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    read_query(request.query, JobListQuery)  # types and bounds; _job_filter reads the values
    job_filter = _job_filter(request)
    jobs = (
        _nothing() if job_filter is None else await request.config_dict[JOBS].list(user, job_filter)
    )
    ndjson = NDJSON in request.headers.get("Accept", "")
    # Everything that can fail with a 4xx has been checked: from here on the status is 200.
    response = web.StreamResponse(
        headers={"Content-Type": NDJSON if ndjson else "application/json; charset=utf-8"}
    )
    await response.prepare(request)
    chunk = b"" if ndjson else b'{"jobs": ['
    count = 0
    async for job in jobs:
        item = json.dumps(_json(request, job)).encode()
        chunk += item + b"\n" if ndjson else (b"," if count else b"") + item
        count += 1
        # The first job goes out at once; then chunks of FLUSH_BYTES, and each write waits
        # while the client is slow: memory stays bounded.
        if count == 1 or len(chunk) >= FLUSH_BYTES:
            await response.write(chunk)
            chunk = b""
    await response.write(chunk if ndjson else chunk + b"]}")
    await response.write_eof()
    return response


async def _nothing() -> AsyncIterator[Job]:
    return
    yield  # an async generator that yields nothing


@routes.get("/{id}")
async def get_job(request: web.Request) -> web.Response:
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    job = await request.config_dict[JOBS].get(user, request.match_info["id"])
    return web.json_response(_json(request, job))


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


def _json(request: web.Request, job: Job) -> dict[str, Any]:
    service = request.config_dict[JOBS]
    settings = request.config_dict[SETTINGS]
    return job_json(
        job,
        public_url=settings.public_url,
        http_domain=settings.jobs.http_domain,
        now=datetime.now(UTC),
        credits_per_hour=service.credits_per_hour(job),
    )


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
