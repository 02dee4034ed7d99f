"""A job's whole output as one stream (wire spec 4.3): archived runs, then the live container.

The archive keeps an RFC 3339 timestamp before every line (see `jobs.log_archive`), so
`since` and `timestamps` apply to archived lines exactly as the engine applies them to live
ones. The separator line marks the switch to live output, and only when archived output came
first.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..jobs.entities import Job, JobStatus
from ..jobs.log_archive import LogArchive
from ..orchestrator import ContainerNotFoundError, ContainerPhase, Orchestrator

# A log stream waits for its pending job's start as an in-process event (the scheduler's
# update of the job), so the first line follows the start at once; this timeout only bounds
# how late a change made by another process (the admin CLI) is noticed.
WAIT_FOR_START_S = 0.5


class JobStates(Protocol):
    async def next_state(self, job: Job, timeout_s: float) -> Job:
        """The job once it has changed, or as stored after `timeout_s` at the latest."""
        ...


@dataclass(frozen=True)
class LogOptions:
    since: datetime | None = None
    timestamps: bool = False
    separator: str | None = None

    def live_separator(self) -> bytes:
        text = self.separator or f"=== Live logs ==={secrets.token_hex(16)}"
        return text.encode() + b"\n"


async def job_logs(
    job: Job,
    options: LogOptions,
    *,
    jobs: JobStates,
    archive: LogArchive,
    orchestrator: Orchestrator,
) -> AsyncIterator[bytes]:
    while job.status is JobStatus.PENDING:  # nothing to show before the container runs
        job = await jobs.next_state(job, WAIT_FOR_START_S)
    offset = archive.size(job.id)
    archived = _filtered(archive.read(job.id), options)
    sent_archived = False
    async for chunk in archived:
        sent_archived = True
        yield chunk
    first = True
    while True:
        try:
            # A restarting job's next container exists a moment before it starts, and the
            # engine ends a followed log of a container that never started at once, empty.
            if job.is_finished or await _has_started(orchestrator, job.id):
                live = orchestrator.logs(
                    job.id,
                    since=options.since,
                    timestamps=options.timestamps,
                    follow=not job.is_finished,
                )
                async for chunk in live:
                    if first and sent_archived:
                        yield options.live_separator()
                    first = False
                    yield chunk
                return
        except ContainerNotFoundError:
            if not first or job.is_finished or archive.size(job.id) > offset:
                break
        # Between two runs of a restarting job: the last run is archived and the next
        # container is still being created or started. Its output is the live part.
        job = await jobs.next_state(job, WAIT_FOR_START_S)
    # The run ended and was archived meanwhile: what it wrote is now past `offset`.
    async for chunk in _filtered(archive.read(job.id, offset), options):
        yield chunk


async def _has_started(orchestrator: Orchestrator, job_id: str) -> bool:
    return (await orchestrator.state(job_id)).phase is not ContainerPhase.PENDING


async def _filtered(chunks: AsyncIterator[bytes], options: LogOptions) -> AsyncIterator[bytes]:
    """Archived lines ("<RFC 3339> <text>\\n") after `since`, with or without the stamp."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        out = [line for line in (_line(raw, options) for raw in lines) if line is not None]
        if out:
            yield b"".join(out)
    if pending and (last := _line(pending, options)) is not None:
        yield last


def _line(raw: bytes, options: LogOptions) -> bytes | None:
    stamp, _, text = raw.partition(b" ")
    if options.since is not None:
        moment = parse_engine_time(stamp.decode(errors="replace"))
        if moment is not None and moment < options.since:
            return None
    return (raw if options.timestamps else text) + b"\n"


def parse_engine_time(text: str) -> datetime | None:
    """'2026-11-26T01:04:18.876083471Z' -> an aware datetime (microseconds kept)."""
    head, dot, rest = text.partition(".")
    if dot:
        digits = rest.rstrip("Z")
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
