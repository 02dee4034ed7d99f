"""A Slurm job's output: podman's k8s-file log on the shared filesystem, read and followed.

Each record is `<RFC 3339 time> <stdout|stderr> <P|F> <text>`: `P` marks a piece of a line
that continues in the next record. The file is the whole output (podman does not rotate it
here), so a follower that falls behind loses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

POLL_S = 0.2
READ_CHUNK = 1024 * 1024


class LineJoiner:
    """Turns records into whole output lines, `(stamp, line)`; `stamp` as Docker writes it."""

    def __init__(self) -> None:
        self._buffer = b""
        self._stamp: bytes | None = None
        self._pieces: list[bytes] = []

    def feed(self, data: bytes) -> Iterator[tuple[bytes, bytes]]:
        for stamp, _stream, line in self.feed_streams(data):
            yield stamp, line

    def feed_streams(self, data: bytes) -> Iterator[tuple[bytes, bytes, bytes]]:
        """`(stamp, b"stdout" | b"stderr", line)`: the lines with the stream they came on."""
        self._buffer += data
        *records, self._buffer = self._buffer.split(b"\n")
        for record in records:
            parts = record.split(b" ", 3)
            if len(parts) < 3:
                continue
            stamp, stream, tag = parts[0], parts[1], parts[2]
            text = parts[3] if len(parts) == 4 else b""
            if self._stamp is None:
                self._stamp = _docker_stamp(stamp)
            self._pieces.append(text)
            if tag != b"P":
                line = b"".join(self._pieces) + b"\n"
                yield self._stamp, stream, line
                self._stamp, self._pieces = None, []


def _docker_stamp(stamp: bytes) -> bytes:
    """`2026-12-06T09:29:16.660201519+00:00` -> `...16.660201519Z` (UTC, nanoseconds)."""
    if stamp.endswith(b"+00:00"):
        return stamp[:-6] + b"Z"
    try:
        moment = datetime.fromisoformat(stamp.decode()).astimezone(UTC)
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f000Z").encode()


def stamp_time(stamp: bytes) -> datetime:
    head, _, fraction = stamp.decode().rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction + '000000')[:6]}+00:00")


async def read_log(
    path: Path,
    *,
    since: datetime | None,
    timestamps: bool,
    follow: bool,
    tail: int | None,
    finished: Callable[[], Awaitable[bool]],
) -> AsyncIterator[bytes]:
    joiner = LineJoiner()

    def render(lines: list[tuple[bytes, bytes]]) -> bytes:
        if since is not None:
            floor = since.astimezone(UTC)
            lines = [(s, line) for s, line in lines if stamp_time(s) >= floor]
        return b"".join(s + b" " + line if timestamps else line for s, line in lines)

    while not await asyncio.to_thread(path.exists):
        if not follow or await finished():
            return
        await asyncio.sleep(POLL_S)
    with path.open("rb") as log:
        lines = list(joiner.feed(await asyncio.to_thread(log.read)))
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        if chunk := render(lines):
            yield chunk
        if not follow:
            return
        while True:
            done = await finished()  # asked before reading: the last output is read after
            data = await asyncio.to_thread(log.read, READ_CHUNK)
            if data:
                if chunk := render(list(joiner.feed(data))):
                    yield chunk
                continue
            if done:
                return
            await asyncio.sleep(POLL_S)


async def follow_streams(
    path: Path, *, since: datetime, finished: Callable[[], Awaitable[bool]]
) -> AsyncGenerator[tuple[int, bytes]]:
    """The output from `since` on as `(1 | 2, line)`, until the container has ended."""
    joiner = LineJoiner()
    floor = since.astimezone(UTC)
    while not await asyncio.to_thread(path.exists):
        if await finished():
            return
        await asyncio.sleep(POLL_S)
    with path.open("rb") as log:
        while True:
            done = await finished()  # asked before reading: the last output is read after
            data = await asyncio.to_thread(log.read, READ_CHUNK)
            for stamp, stream, line in joiner.feed_streams(data):
                if stamp_time(stamp) >= floor:
                    yield (2 if stream == b"stderr" else 1), line
            if not data:
                if done:
                    return
                await asyncio.sleep(POLL_S)
