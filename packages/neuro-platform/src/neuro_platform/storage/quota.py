"""Per-user storage quota (`[storage] max_bytes_per_user`, off by default), enforced where the
API makes files bigger: CREATE, WRITE and CREATETAR.

A user's usage is the total size of the regular files in their home folder (`/<user>`, or
`/<org>/<user>`), whoever wrote them (a share lets bob write into alice's folder: it counts
for alice). Walking a big tree on every write would be slow, so a walk's result is kept and
the bytes this server admitted since are added to it; the tree is walked again when the result
is `RESCAN_AFTER_S` old, after a DELETE or RENAME in it, and before a refusal (at most once per
`MIN_RESCAN_INTERVAL_S`, so a client hammering a full home costs one walk a second). RENAME
writes no bytes and is not refused, even into another user's shared folder (the bytes were
already counted against the mover's own quota). Writes by jobs
through their storage mounts bypass the API: they count from the next walk on, so a job can
take a user over the quota, after which the API refuses to grow their files.

Over the quota the API answers 400 with errno `EDQUOT`, which the original client and our
SDK both raise as `OSError(EDQUOT)` ("Disk quota exceeded") with the message; a refused
CREATE leaves nothing behind (its temporary file is removed, the old file is untouched).
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from .errors import StorageError
from .paths import StoragePath, is_hidden_partial_upload

RESCAN_AFTER_S = 60.0
MIN_RESCAN_INTERVAL_S = 1.0


@dataclass
class _Usage:
    scanned: int  # bytes found by the last walk
    scanned_at: float
    admitted: int = 0  # bytes admitted since that walk


class StorageQuota:
    def __init__(
        self,
        root: Path,
        limit: int,
        orgs: Collection[str],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._root = root
        self._limit = limit
        self._orgs = frozenset(orgs)
        self._clock = clock
        self._usage: dict[StoragePath, _Usage] = {}

    def home_of(self, path: StoragePath) -> StoragePath | None:
        """The home folder that `path` counts against; None for the storage root itself."""
        parts = path.parts
        if len(parts) >= 2 and parts[0] in self._orgs:
            return StoragePath(parts[:2])
        return StoragePath(parts[:1]) if parts else None

    async def admit(self, path: StoragePath, growth: int) -> None:
        """Counts `growth` more bytes for the home of `path`, or raises EDQUOT."""
        home = self.home_of(path)
        if growth <= 0 or home is None:
            return
        usage = self._usage.get(home)
        now = self._clock()
        if usage is None or now - usage.scanned_at >= RESCAN_AFTER_S:
            usage = await self._scan(home)
        if self._over(usage, growth) and now - usage.scanned_at >= MIN_RESCAN_INTERVAL_S:
            usage = await self._scan(home)
        if self._over(usage, growth):
            raise StorageError(
                errno.EDQUOT,
                f"Storage quota exceeded: /{home} may hold {self._limit} bytes, it holds "
                f"{usage.scanned + usage.admitted} and this would add {growth}",
                str(path),
            )
        usage.admitted += growth

    def forget(self, path: StoragePath) -> None:
        """Files below `path` were removed or moved: the next write walks its home again."""
        home = self.home_of(path)
        if home is not None:
            self._usage.pop(home, None)

    async def metered(
        self, path: StoragePath, content: AsyncIterable[bytes], replaced: int
    ) -> AsyncIterator[bytes]:
        """`content`, admitting each chunk as it arrives; the first `replaced` bytes (the
        size of the file the upload replaces) are free."""
        free = replaced
        async for chunk in content:
            await self.admit(path, len(chunk) - free)
            free = max(0, free - len(chunk))
            yield chunk

    def _over(self, usage: _Usage, growth: int) -> bool:
        return usage.scanned + usage.admitted + growth > self._limit

    async def _scan(self, home: StoragePath) -> _Usage:
        scanned_at = self._clock()
        total = await asyncio.to_thread(_tree_size, self._root.joinpath(*home.parts))
        usage = _Usage(total, scanned_at)
        self._usage[home] = usage
        return usage


def _tree_size(top: Path) -> int:
    """Bytes of the regular files below `top`; symlinks are not followed. Uploads still
    being written to their hidden temporary names are left out: their bytes are admitted as
    they arrive (and one orphaned by a crash is no file of the user's)."""
    try:
        if not stat.S_ISDIR(os.lstat(top).st_mode):
            return 0
    except FileNotFoundError:
        return 0
    total = 0
    pending = [top]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(st.st_mode):
                pending.append(Path(entry.path))
            elif stat.S_ISREG(st.st_mode) and not is_hidden_partial_upload(entry.name):
                total += st.st_size
    return total
