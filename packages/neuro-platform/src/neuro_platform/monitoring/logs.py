"""A job's whole output as one stream (docs/protocol.md §4.3), read from its log archive.

The archive has every run's output, the running one's as it comes (`jobs.log_archiver`), and
an RFC 3339 timestamp before every line, so `since` and `timestamps` apply to it exactly as
the engine applies them. A stream of a running job follows the run that is current when it
opens (or the next one, between two runs of a restarting job) to that run's end; the
separator line goes before that run's output, and only when earlier output came first.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..jobs.entities import Job, JobStatus
from ..jobs.log_archive import ArchivedRun, LogArchive

# A log stream waits for its pending job's start as an in-process event (the scheduler's
# update of the job), so the first line follows the start at once; this timeout only bounds
# how late a change made by another process (the admin CLI) is noticed.
WAIT_FOR_START_S = 0.5
# A finished job's last output is archived when its container is collected: a stream waits
# that long at most for it, so an engine that is down does not hold the stream forever.
WAIT_FOR_COLLECTION_S = 15.0


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
    job: Job, options: LogOptions, *, jobs: JobStates, archive: LogArchive
) -> AsyncIterator[bytes]:
    while job.status is JobStatus.PENDING:  # nothing to show before the container runs
        job = await jobs.next_state(job, WAIT_FOR_START_S)
    offset = 0
    sent = False  # whether archived output came before the followed run
    run: ArchivedRun | None = None
    separated = job.is_finished  # a finished job has no live part
    # Between two runs the last one is done: the stream follows the next one, even if it
    # ends before the stream looks again.
    ended = archive.latest_run(job.id)
    ended_start = ended.started if ended is not None and ended.done else None
    while True:
        if run is None and not separated:
            latest = archive.latest_run(job.id)
            if latest is not None and (not latest.done or latest.started != ended_start):
                run = latest
        end = run.end if run is not None else archive.size(job.id)
        if run is not None and not separated:
            async for chunk in _filtered(archive.read(job.id, offset, run.offset), options):
                sent = True
                yield chunk
            offset = max(offset, run.offset)
            if sent:
                yield options.live_separator()
            separated = True
        async for chunk in _filtered(archive.read(job.id, offset, end), options):
            sent = True
            yield chunk
        offset = max(offset, end)
        if run is not None:
            if run.done and offset >= run.end:
                return
            await archive.wait_for_change(job.id, WAIT_FOR_START_S)
        elif job.is_finished:
            break
        else:  # between two runs, or before archiving began: wait for the (next) run
            job = await jobs.next_state(job, WAIT_FOR_START_S)
    # The job ended: its last output is archived by the time it is collected.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_FOR_COLLECTION_S
    while job.materialized and loop.time() < deadline:
        job = await jobs.next_state(job, WAIT_FOR_START_S)
    async for chunk in _filtered(archive.read(job.id, offset), options):
        yield chunk


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
