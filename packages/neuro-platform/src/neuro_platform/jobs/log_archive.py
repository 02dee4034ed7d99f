"""Job output kept for good: `<archive dir>/<job id>.log`, every run one after the other.

Each line is "<engine timestamp> <text>\\n", the engine's fixed-width RFC 3339 time (UTC,
nanoseconds), so `since` applies to archived lines exactly as the engine applies it, and
lines sort by time as bytes. `jobs.log_archiver` appends the output of the running container
while it runs; readers (`monitoring.logs`) follow the archive, told of each commit here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..orchestrator.naming import check_name_part

READ_CHUNK = 1024 * 1024
STAMP_WIDTH = len("2026-11-26T01:04:18.876083471Z")
# Bytes an archived line has beyond the job's own output: the stamp and its space.
LINE_OVERHEAD = STAMP_WIDTH + 1
CAP_MARKER = b"[neuro] log cap of %d bytes reached; later output dropped"


@dataclass
class ArchivedRun:
    """The run (container) whose output is being archived: readers follow it to its end."""

    started: bytes  # the container's start (an engine stamp): names the run
    offset: int  # where its output starts in the archive
    end: int  # the archive's committed size (whole lines only)
    done: bool = False


@dataclass(frozen=True)
class ArchiveEnd:
    """What resuming needs to know about an archive's end."""

    size: int
    output_bytes: int  # the job's own bytes (without stamps) archived so far
    last_stamp: bytes | None
    last_stamp_lines: int  # how many lines at the end carry `last_stamp`
    capped: bool  # the last line is the cap marker


class LogArchive:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._runs: dict[str, ArchivedRun] = {}
        self._changes: dict[str, asyncio.Event] = {}

    def path(self, job_id: str) -> Path:
        return self._directory / f"{check_name_part('job id', job_id)}.log"

    # -- readers -----------------------------------------------------------------------------

    def latest_run(self, job_id: str) -> ArchivedRun | None:
        """The run archived last by this process, done or not."""
        return self._runs.get(job_id)

    def live_run(self, job_id: str) -> ArchivedRun | None:
        run = self._runs.get(job_id)
        return run if run is not None and not run.done else None

    async def wait_for_change(self, job_id: str, timeout_s: float) -> None:
        """Until the job's archive grows or its run ends, `timeout_s` at the latest."""
        event = self._changes.setdefault(job_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await event.wait()

    async def read(
        self, job_id: str, offset: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self.path(job_id)
        try:
            f = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            return
        try:
            f.seek(offset)
            left = end - offset if end is not None else None
            while left is None or left > 0:
                size = READ_CHUNK if left is None else min(READ_CHUNK, left)
                chunk = await asyncio.to_thread(f.read, size)
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            f.close()

    def size(self, job_id: str) -> int:
        """The committed size: a run being written counts only its whole, written lines."""
        if (run := self.live_run(job_id)) is not None:
            return run.end
        try:
            return self.path(job_id).stat().st_size
        except FileNotFoundError:
            return 0

    # -- the archiver ------------------------------------------------------------------------

    def runs_path(self, job_id: str) -> Path:
        return self._directory / f"{check_name_part('job id', job_id)}.runs"

    async def resume(self, job_id: str, run_started: bytes) -> tuple[ArchivedRun, ArchiveEnd]:
        """Starts (or resumes) archiving the job's current run, the container started at
        `run_started`: a line cut by a crash is dropped, to be archived again whole."""
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        end = await asyncio.to_thread(_scan, self.path(job_id))
        offset = await asyncio.to_thread(_run_offset, self.runs_path(job_id), run_started, end.size)
        run = ArchivedRun(started=run_started, offset=offset, end=end.size)
        self._runs[job_id] = run
        self._notify(job_id)
        return run, end

    async def append(self, job_id: str, run: ArchivedRun, data: bytes) -> None:
        if data:
            await asyncio.to_thread(_append, self.path(job_id), data)
            run.end += len(data)
            self._notify(job_id)

    def end_run(self, job_id: str, run: ArchivedRun) -> None:
        run.done = True
        self._notify(job_id)

    def _notify(self, job_id: str) -> None:
        if (event := self._changes.pop(job_id, None)) is not None:
            event.set()


def _append(path: Path, data: bytes) -> None:
    # Job output may hold anything the job printed: readable by the platform's user only.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "ab") as f:
        f.write(data)


def _run_offset(path: Path, run_started: bytes, size: int) -> int:
    """Where the run (container) started at `run_started` begins in the archive: recorded in
    `<job id>.runs` ("<start> <offset>" a line) when its archiving began. Line stamps cannot
    tell: the engine notes a container's start after the job may have printed already."""
    try:
        last = path.read_bytes().splitlines()[-1:]
    except FileNotFoundError:
        last = []
    if last and last[0].startswith(run_started + b" "):
        return int(last[0].split(b" ")[1])
    with path.open("ab") as f:
        f.write(b"%s %d\n" % (run_started, size))
    return size


def _scan(path: Path) -> ArchiveEnd:
    """The archive's end, after dropping a partial last line."""
    try:
        f = path.open("r+b")
    except FileNotFoundError:
        return ArchiveEnd(0, 0, None, 0, False)
    with f:
        lines = 0
        size = 0
        while chunk := f.read(READ_CHUNK):
            lines += chunk.count(b"\n")
            size += len(chunk)
        whole = _last_newline_end(f, size)
        if whole != size:
            f.truncate(whole)
            size = whole
        tail = _tail_lines(f, size)
        last_stamp = tail[-1][:STAMP_WIDTH] if tail else None
        same = 0
        for line in reversed(tail):
            if line[:STAMP_WIDTH] != last_stamp:
                break
            same += 1
        capped = bool(tail) and tail[-1][LINE_OVERHEAD:].startswith(CAP_MARKER.split(b"%d")[0])
        return ArchiveEnd(size, size - LINE_OVERHEAD * lines, last_stamp, same, capped)


def _last_newline_end(f: BinaryIO, size: int) -> int:
    position = size
    while position > 0:
        start = max(0, position - READ_CHUNK)
        f.seek(start)
        chunk = f.read(position - start)
        index = chunk.rfind(b"\n")
        if index >= 0:
            return start + index + 1
        position = start
    return 0


def _tail_lines(f: BinaryIO, size: int, window: int = READ_CHUNK) -> list[bytes]:
    """The last whole lines (without newlines) within `window` bytes of the end."""
    start = max(0, size - window)
    f.seek(start)
    data = f.read(size - start)
    lines = data.split(b"\n")[:-1]
    return lines if start == 0 else lines[1:]
