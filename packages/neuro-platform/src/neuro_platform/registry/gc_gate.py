"""Keeps garbage collection and registry requests apart, across every process of a data dir.

Each `serve` process sharing a data dir (docs/scale-out.md) runs a registry of its own on the
one storage directory; the leader alone collects garbage, which must not run while any of them
serves a request (it would delete the blobs of a push in progress). Two `flock` files in the
registry directory do it, and the kernel drops a process's locks when it dies, so a killed
process never leaves the registry closed:

- `gc.lock`: a process holds it *shared* while it has a request in flight; the collector
  takes it *exclusive*, so it runs when no request runs anywhere, and a request that finds it
  taken is refused (503, "collecting garbage").
- `gc-intent.lock`: the collector holds it exclusive from before it waits for `gc.lock` until
  it is done; a request that finds it taken is refused before it starts, so a steady stream of
  requests on the other processes cannot keep the collector waiting forever.

Locks of one process on different open files conflict as between processes (`flock`
semantics), so the leader's own requests are kept out the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

GC_LOCK = "gc.lock"
INTENT_LOCK = "gc-intent.lock"
_POLL_S = 0.05


class CollectingError(Exception):
    """Garbage collection runs (or is about to) in some process of the data dir."""


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def _try_lock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


async def _take(fd: int, operation: int) -> None:
    # Polled: a blocking flock in a worker thread could not be cancelled.
    while True:
        if _try_lock(fd, operation):
            return
        await asyncio.sleep(_POLL_S)


class GcGate:
    """Requests pass through `request()`; the collector runs inside `collecting()`."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._in_flight = 0
        self._fd: int | None = None  # the shared hold on gc.lock while requests run

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        """Held for the length of one request; CollectingError when a collection runs."""
        if self._in_flight == 0:
            self._admit_first()
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0 and self._fd is not None:
                os.close(self._fd)  # releases the shared lock
                self._fd = None

    def _admit_first(self) -> None:
        probe = _open(self._root / INTENT_LOCK)
        try:
            if not _try_lock(probe, fcntl.LOCK_SH):
                raise CollectingError
        finally:
            os.close(probe)
        fd = _open(self._root / GC_LOCK)
        if not _try_lock(fd, fcntl.LOCK_SH):
            os.close(fd)
            raise CollectingError
        self._fd = fd

    @contextlib.asynccontextmanager
    async def collecting(self) -> AsyncIterator[None]:
        """Waits until no process serves a registry request, keeping new ones out, and holds
        them out for the block."""
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        intent, gc = _open(self._root / INTENT_LOCK), _open(self._root / GC_LOCK)
        try:
            # Another collector (a deposed leader finishing its run) goes first.
            await _take(intent, fcntl.LOCK_EX)
            await _take(gc, fcntl.LOCK_EX)  # the requests in flight finish
            yield
        finally:
            os.close(gc)
            os.close(intent)
