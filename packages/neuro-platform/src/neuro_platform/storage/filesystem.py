"""The storage filesystem as the event loop sees it: async, streaming, bounded memory.

Every blocking call of `anchored.py` runs in a worker thread. Uploaded content is written
in blocks of about `BLOCK_SIZE`, each while the next one is received, and downloads go
out with sendfile(2), so a 10 GiB file costs a few MiB of memory per transfer, and
directory listings and recursive removals are handed over in batches. Files of up to
`SMALL_FILE_SIZE` are written or read whole in a single hop to a worker thread: with
thousands of small files the hops, not the bytes, were what cost time.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .anchored import AnchoredTree, GuardedFd
from .bundles import BundledFile
from .entries import DiskUsage, FileInfo, RemovedEntry
from .errors import StorageError
from .paths import StoragePath
from .socket_body import SocketBody

BLOCK_SIZE = 1024 * 1024  # the SDK uploads in 1 MiB chunks too
SMALL_FILE_SIZE = BLOCK_SIZE  # the SDK's CREATE carries up to 1 MiB: one request per file
LISTING_BATCH = 256

T = TypeVar("T")


@dataclass(frozen=True)
class OpenedFile:
    """A file open for reading: a small one was read whole (and closed) when it was opened."""

    info: FileInfo
    _content: bytes | GuardedFd

    @property
    def content(self) -> bytes | None:
        """The whole content of a small file (None for a bigger one: `send` streams it)."""
        return None if isinstance(self._content, GuardedFd) else self._content

    async def send(self, transport: asyncio.WriteTransport, start: int, end: int) -> None:
        """Sends bytes `start`..`end` (exclusive) to the socket with sendfile(2): the kernel
        copies them from the page cache, not Python (a big download's server CPU was mostly
        those copies). Stops early if the file shrinks meanwhile."""
        if not isinstance(self._content, GuardedFd):
            transport.write(self._content[start:end])
            return
        file = await asyncio.to_thread(self._content.duplicate)
        try:
            await asyncio.get_running_loop().sendfile(transport, file, start, end - start)
        finally:
            file.close()


class LocalFilesystem:
    def __init__(self, root: Path) -> None:
        self._tree = AnchoredTree(root)

    @property
    def root(self) -> Path:
        return self._tree.root

    async def ensure_root(self) -> None:
        await asyncio.to_thread(self._tree.ensure_root)

    async def stat(self, path: StoragePath) -> FileInfo:
        return await asyncio.to_thread(self._tree.stat, path)

    async def list(self, path: StoragePath) -> AsyncIterator[FileInfo]:
        async for info in _iterate_in_thread(self._tree.iter_dir(path)):
            yield info

    async def mkdirs(self, path: StoragePath) -> None:
        await asyncio.to_thread(self._tree.mkdirs, path)

    async def create(self, path: StoragePath, content: AsyncIterable[bytes] | bytes) -> int:
        """Writes a new file atomically; returns its size.

        If `content` fails (the client went away) or anything else goes wrong, the
        temporary file is removed and whatever was at `path` before is untouched.
        """
        if isinstance(content, bytes):
            await asyncio.to_thread(self._tree.create_whole, path, content)
            return len(content)
        upload = await asyncio.to_thread(self._tree.start_upload, path)
        try:
            writer = _BlockWriter(lambda _, chunks: upload.write_chunks(chunks), 0)
            async with writer:
                async for chunk in content:
                    await writer.add(chunk)
            await asyncio.to_thread(upload.commit)
        finally:
            # A no-op after commit. Shielded so a cancelled request still cleans up.
            await asyncio.shield(asyncio.to_thread(upload.discard))
        return upload.size

    async def create_files(self, directory: StoragePath, files: Sequence[BundledFile]) -> None:
        """Writes each file into `directory` atomically, as `create` would, in one hop."""

        contents = [(file.name, file.content) for file in files]
        await asyncio.to_thread(self._tree.create_many, directory, contents)

    async def read_files(
        self, directory: StoragePath, names: Sequence[str], limit: int
    ) -> Sequence[BundledFile]:
        """The named regular files of `directory` of at most `limit` bytes, read whole in
        one hop; any other name (missing, bigger, not a file) is left out."""

        return await asyncio.to_thread(_read_small_files, self._tree, directory, names, limit)

    async def write(
        self,
        path: StoragePath,
        offset: int,
        length: int,
        content: AsyncIterable[bytes] | SocketBody,
    ) -> None:
        """Writes exactly `length` bytes at `offset` into an existing file, durably: the
        bytes are flushed to disk before this returns (like a CREATE's before its rename),
        so an upload that `neuro cp` reports done survives a power loss. Each block's
        writeback starts as soon as it is written, so the flush at the end waits for
        little more than the last block. A `SocketBody` (whose length the handler checked)
        goes from the socket to the file by splice(2)."""
        file, _ = await asyncio.to_thread(self._tree.open_for_writing, path)

        def flush() -> None:
            try:
                file.fdatasync()
            except OSError as e:
                raise StorageError.from_os_error(e, str(path)) from None

        try:
            if isinstance(content, SocketBody):
                await content.move_into(file, offset, str(path))
            else:
                await _write_stream(file, path, offset, length, content)
            await asyncio.to_thread(flush)
        finally:
            await asyncio.shield(asyncio.to_thread(file.close))

    @asynccontextmanager
    async def open(self, path: StoragePath) -> AsyncIterator[OpenedFile]:
        info, content = await asyncio.to_thread(self._tree.read_whole, path, SMALL_FILE_SIZE)
        try:
            yield OpenedFile(info, content)
        finally:
            if isinstance(content, GuardedFd):
                await asyncio.shield(asyncio.to_thread(content.close))

    async def remove(self, path: StoragePath, *, recursive: bool) -> AsyncIterator[RemovedEntry]:
        async for entry in _iterate_in_thread(self._tree.remove(path, recursive=recursive)):
            yield entry

    async def rename(self, source: StoragePath, destination: StoragePath) -> None:
        await asyncio.to_thread(self._tree.rename, source, destination)

    async def disk_usage(self) -> DiskUsage:
        return await asyncio.to_thread(self._tree.disk_usage)


def _read_small_files(
    tree: AnchoredTree, directory: StoragePath, names: Sequence[str], limit: int
) -> list[BundledFile]:
    found = []
    for name in names:
        try:
            info, content = tree.read_whole(directory.child(name), limit)
        except StorageError:
            continue
        if isinstance(content, GuardedFd):
            content.close()
            continue
        found.append(BundledFile(name, content, info.modification_time))
    return found


async def _write_stream(
    file: GuardedFd, path: StoragePath, offset: int, length: int, content: AsyncIterable[bytes]
) -> None:
    """Writes a body read through aiohttp, block by block (see `_BlockWriter`)."""

    def write_block(position: int, chunks: Sequence[bytes]) -> None:
        try:
            file.pwritev_all(chunks, position)
            file.start_writeback(position, sum(map(len, chunks)))
        except OSError as e:
            raise StorageError.from_os_error(e, str(path)) from None

    writer = _BlockWriter(write_block, offset)
    async with writer:
        async for chunk in content:
            if writer.end + len(chunk) > offset + length:
                raise StorageError(errno.EINVAL, "Body is longer than its Content-Range", str(path))
            await writer.add(chunk)
    if writer.end != offset + length:
        raise StorageError(errno.EINVAL, "Body is shorter than its Content-Range", str(path))


class _BlockWriter:
    """Writes a body as it arrives, in blocks of about BLOCK_SIZE: fewer thread hops per
    byte. A block is the list of chunks as received, written with one pwritev(2) (joining
    them would copy every byte once more), in a worker thread while the next block is
    received, so network and disk overlap and at most two blocks are in memory.

    `write(position, chunks)` runs in a worker thread. Leaving the `async with` block
    normally writes the rest and waits for it; leaving it with an error does not wait for
    a write still running (the file's lock keeps it from being closed under that write)
    and drops that write's own error.
    """

    def __init__(self, write: Callable[[int, Sequence[bytes]], None], start: int) -> None:
        self._write = write
        self._chunks: list[bytes] = []
        self._size = 0
        self._position = start  # where the pending chunks go
        self._running: asyncio.Future[None] | None = None

    @property
    def end(self) -> int:
        """The offset after the last byte received."""
        return self._position + self._size

    async def add(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        if self._size >= BLOCK_SIZE:
            await self._settle()
            self._running = asyncio.ensure_future(self._write_pending())

    async def __aenter__(self) -> _BlockWriter:
        return self

    async def __aexit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        if error_type is None:
            await self._settle()
            if self._chunks:
                await self._write_pending()
        elif self._running is not None:
            self._running.add_done_callback(_drop_result)
            self._running = None

    def _write_pending(self) -> Awaitable[None]:
        chunks, position = self._chunks, self._position
        self._position += self._size
        self._chunks, self._size = [], 0
        return asyncio.to_thread(self._write, position, chunks)

    async def _settle(self) -> None:
        if self._running is not None:
            running, self._running = self._running, None
            await running


def _drop_result(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


async def _iterate_in_thread(iterator: Iterator[T]) -> AsyncIterator[T]:
    def next_batch() -> list[T]:
        return list(itertools.islice(iterator, LISTING_BATCH))

    try:
        while batch := await asyncio.to_thread(next_batch):
            for item in batch:
                yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            # ValueError "generator already executing": a cancelled batch still runs in its
            # thread; the generator closes its fds when it is collected afterwards.
            with contextlib.suppress(ValueError):
                await asyncio.to_thread(close)
