"""Copies a running container's output into the job's log archive while it runs.

The engine keeps only a bounded log (Docker's `local` driver: 5 files of 100 MB), and its
followed log stream (Docker 20.10) skips whatever a slow reader has not read yet when a file
rotates. So the archiver does not follow: it asks again and again for the lines since the last
archived stamp, the last `tail` lines only (cheap for the engine), widening `tail` until the
answer reaches back to a line it archived already, which proves nothing lies between. Lines
stamped before that stamp, and as many lines stamped with it as the archive ends with, were
archived before: a restarted server resumes with nothing lost and nothing twice, as long as
the engine still holds what came while it was down.

A job keeps its first `cap_bytes` bytes of output; then a marker line says the cap cut it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime

from ..orchestrator import ContainerNotFoundError, Orchestrator, OrchestratorError
from .log_archive import CAP_MARKER, LINE_OVERHEAD, STAMP_WIDTH, ArchivedRun, LogArchive

log = logging.getLogger(__name__)

FIRST_TAIL = 4096
MAX_TAIL = 4_000_000  # beyond this a whole read is as cheap
IDLE_POLL_S = (0.05, 1.0)  # after output, then doubling while the job is quiet
BATCH_BYTES = 4 * 1024 * 1024  # archived at a time while a large answer comes in
# How long `begin` waits for the copier to find the run: the scheduler marks the job running
# after it, so an engine that does not answer delays that mark by this much at most.
BEGIN_WAIT_S = 5.0
LOST_MARKER = b"[neuro] output lost here: the engine dropped it before it was archived"


class LogArchivers:
    """One archiving task per running container, keyed by job id."""

    def __init__(self, archive: LogArchive, orchestrator: Orchestrator, cap_bytes: int) -> None:
        self._archive = archive
        self._orchestrator = orchestrator
        self._cap_bytes = cap_bytes
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._copiers: dict[str, _Copier] = {}

    def ensure(self, job_id: str) -> None:
        """Archives the job's current container unless that is under way already, or done:
        a second copier of an exited container would archive it as a run of its own (a log
        stream would show a separator after its output). `finish` forgets a container."""
        task = self._tasks.get(job_id)
        if task is not None and (not task.done() or self._copiers[job_id].complete):
            return
        self._spawn(job_id)

    async def begin(self, job_id: str) -> None:
        """`ensure`, then until the archive has the container's run (or the copier found
        none). The scheduler marks a job running after this: a log stream that sees it
        running then follows the run at once, rather than waiting for a change of the job
        that does not come (half a second each time it lost the race)."""
        self.ensure(job_id)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(BEGIN_WAIT_S):
                await self._copiers[job_id].begun.wait()

    def _spawn(self, job_id: str) -> asyncio.Task[None]:
        copier = _Copier(self._archive, self._orchestrator, job_id, self._cap_bytes)
        task = asyncio.create_task(copier.run(), name=f"archive-{job_id}")
        self._tasks[job_id], self._copiers[job_id] = task, copier
        return task

    async def finish(self, job_id: str) -> None:
        """Until the job's (exited) container's output is all archived."""
        task = self._tasks.get(job_id)
        if task is None or task.done():
            # Not archived by this process yet (e.g. right after a restart): catch up now,
            # registered so that `ensure` starts no second copier meanwhile.
            task = self._spawn(job_id)
        try:
            await task
        finally:
            if self._tasks.get(job_id) is task:
                del self._tasks[job_id]
                del self._copiers[job_id]

    async def close(self) -> None:
        """On shutdown: stop archiving (the next server resumes where this one stopped)."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
        self._copiers.clear()


class _Behind(Exception):
    """The answer starts after the last archived line: ask for more lines."""


class _Copier:
    def __init__(
        self, archive: LogArchive, orchestrator: Orchestrator, job_id: str, cap_bytes: int
    ) -> None:
        self._archive = archive
        self._orchestrator = orchestrator
        self._job_id = job_id
        self._cap = cap_bytes
        # Where the archive ends, as `run` finds it and each batch leaves it.
        self._last: bytes | None = None
        self._same = 0
        self._written = 0
        self._capped = False
        # Set once the archive has the run, or once it is clear that it never will.
        self.begun = asyncio.Event()
        # Whether the container's output is all archived (it exited, or never ran, or is
        # gone); False after an engine error, which a later `ensure` retries.
        self.complete = False

    async def run(self) -> None:
        try:
            run = await self._begin()
        except ContainerNotFoundError:
            self.complete = True
            return
        except (OrchestratorError, OSError):  # the job must still be collectable
            log.exception("archiving the output of %s failed", self._job_id)
            return
        finally:
            self.begun.set()
        if run is None:
            self.complete = True
            return
        try:
            await self._copy(run)
            self.complete = True
        except ContainerNotFoundError:
            self.complete = True
        except (OrchestratorError, OSError):
            log.exception("archiving the output of %s failed", self._job_id)
        finally:
            self._archive.end_run(self._job_id, run)

    async def _begin(self) -> ArchivedRun | None:
        """The run of the job's container once it has started; None when it never will."""
        state = await self._orchestrator.state(self._job_id)
        while state.started_at is None:  # created, not started yet
            if state.is_finished:
                return None
            await asyncio.sleep(IDLE_POLL_S[0])
            state = await self._orchestrator.state(self._job_id)
        run, end = await self._archive.resume(self._job_id, _stamp(state.started_at))
        self._last, self._same = end.last_stamp, end.last_stamp_lines
        self._written, self._capped = end.output_bytes, end.capped
        return run

    async def _copy(self, run: ArchivedRun) -> None:
        tail = FIRST_TAIL
        delay = IDLE_POLL_S[0]
        if not self._capped and self._written >= self._cap:  # the cap was lowered since
            stamp = self._last or b"0" * STAMP_WIDTH
            await self._archive.append(self._job_id, run, self._marker(stamp))
            self._capped = True
        while True:
            exited = (await self._orchestrator.state(self._job_id)).is_finished
            if self._capped:
                if exited:
                    return
                with contextlib.suppress(OrchestratorError):
                    await self._orchestrator.wait(self._job_id)
                continue
            # Lines of this container since `last` can prove the answer complete only when
            # `last` is one of them; before its first line, ask for all of it.
            ours = run.end > run.offset
            asked = tail if ours and tail <= MAX_TAIL else None
            try:
                lines = await self._pass(run, asked, ours=ours, exited=exited)
            except _Behind:
                tail *= 8  # more came since `last` than we asked for
                continue
            if lines:
                delay = IDLE_POLL_S[0]
                tail = max(FIRST_TAIL, 2 * lines)
            elif exited:
                return
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, IDLE_POLL_S[1])

    async def _pass(self, run: ArchivedRun, asked: int | None, *, ours: bool, exited: bool) -> int:
        """Archives the lines since the last archived one, a batch at a time (the engine may
        hold hundreds of megabytes); returns how many it archived."""
        since = _parse_stamp(self._last) if self._last is not None else None
        chunks = self._orchestrator.logs(self._job_id, since=since, timestamps=True, tail=asked)
        try:
            return await self._take(run, chunks, asked, ours=ours, exited=exited)
        finally:
            # Left early (the cap, or too few lines): the engine's answer is not read to its end.
            if isinstance(chunks, AsyncGenerator):
                await chunks.aclose()

    async def _take(
        self,
        run: ArchivedRun,
        chunks: AsyncIterator[bytes],
        asked: int | None,
        *,
        ours: bool,
        exited: bool,
    ) -> int:
        # A bytearray grows in place: `bytes +=` would copy the whole batch for every chunk.
        pending = bytearray()
        first = True
        count = 0
        async for chunk in chunks:
            pending += chunk
            if len(pending) < BATCH_BYTES:
                continue
            end = pending.rfind(b"\n") + 1
            if end:
                count += await self._archive_lines(run, bytes(pending[:end]), first, asked, ours)
                del pending[:end]
                first = False
            if self._capped:
                return count
        if exited and pending and not pending.endswith(b"\n"):
            pending += b"\n"  # the output's last line had no newline: it is complete now
        end = pending.rfind(b"\n") + 1
        if end or first:
            count += await self._archive_lines(run, bytes(pending[:end]), first, asked, ours)
        return count

    async def _archive_lines(
        self, run: ArchivedRun, data: bytes, first: bool, asked: int | None, ours: bool
    ) -> int:
        lost = b""
        if first and ours and not _reaches(data, self._last):
            if asked is not None:
                raise _Behind
            # The engine no longer has the lines after `last`: say so where they were.
            lost = data[:STAMP_WIDTH] + b" " + LOST_MARKER + b"\n"
        new = lost + (_after(data, self._last, self._same) if first else data)
        if not new:
            return 0
        lines = new.count(b"\n")
        self._last, self._same = _last_stamp(new, self._last, self._same)
        output = len(new) - LINE_OVERHEAD * lines
        if self._written + output > self._cap:
            new = self._cut(new, self._cap - self._written)
            self._capped = True
        self._written += output
        await self._archive.append(self._job_id, run, new)
        return lines

    def _cut(self, lines: bytes, room: int) -> bytes:
        """The first `room` bytes of the job's output in `lines`, then the cap marker."""
        kept = []
        position = 0
        while room > 0:
            end = lines.index(b"\n", position) + 1
            line = lines[position:end]
            text = len(line) - LINE_OVERHEAD
            if text <= room:
                kept.append(line)
            else:
                kept.append(line[: LINE_OVERHEAD + room] + b"\n")
            room -= text
            position = end
        next_stamp = lines[position : position + STAMP_WIDTH] if position < len(lines) else None
        stamp = next_stamp or lines[:STAMP_WIDTH]
        return b"".join(kept) + self._marker(stamp)

    def _marker(self, stamp: bytes) -> bytes:
        return stamp + b" " + CAP_MARKER % self._cap + b"\n"


def _reaches(data: bytes, last: bytes | None) -> bool:
    """Whether an answer that starts at the oldest of the asked-for lines reaches `last`."""
    return not data or last is None or data[:STAMP_WIDTH] <= last


def _after(lines: bytes, last: bytes | None, same: int) -> bytes:
    """`lines` without those archived already: stamped before `last`, and the first `same`
    stamped with it (stamps ascend, so only the head needs looking at)."""
    if last is None:
        return lines
    position = 0
    while position < len(lines):
        stamp = lines[position : position + STAMP_WIDTH]
        if stamp > last:
            break
        if stamp == last:
            if same == 0:
                break
            same -= 1
        position = lines.index(b"\n", position) + 1
    return lines[position:]


def _last_stamp(new: bytes, last: bytes | None, same: int) -> tuple[bytes, int]:
    """The stamp of the last of `new` lines and how many lines end the archive with it."""
    end = len(new) - 1  # the last line's newline
    start = new.rfind(b"\n", 0, end) + 1
    stamp = new[start : start + STAMP_WIDTH]
    count = 0
    while end >= 0 and new[start : start + STAMP_WIDTH] == stamp:
        count += 1
        end = start - 1
        start = new.rfind(b"\n", 0, end) + 1
    return stamp, count + (same if end < 0 and stamp == last else 0)


def _stamp(moment: datetime) -> bytes:
    """An aware datetime as the engine stamps lines (microseconds, then zeros)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z").encode()


def _parse_stamp(stamp: bytes) -> datetime:
    head, _, fraction = stamp.decode().rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{fraction[:6]}+00:00")
