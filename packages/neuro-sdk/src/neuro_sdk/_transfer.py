"""Uploads and downloads of files and directory trees, fast and resumable.

* Small files travel concurrently (at most ``concurrency`` requests of one transfer at a
  time, all on the client's one session); a big file streams in chunks, so memory stays
  bounded whatever its size.
* An upload is a CREATE of the first chunk followed by WRITEs at increasing offsets, one
  after another: the remote file is always a prefix of the local one, which is what lets
  ``continue_`` (and a retry) carry on from its end; each WRITE's body is sent from the
  file by the kernel (`_file_range_payload`). A download reads with ``Range`` from the local
  file's current size; over plain HTTP its body is spliced from the socket into the file
  (`_spliced_body`).
* A network error or a 502/503 answer repeats only the failed request (an upload's
  current chunk, a download's rest of the file), up to ``max_attempts`` times.
* In directory transfers, a directory's small files travel in bundles (tar archives of up
  to ``bundle_files`` files and ``bundle_bytes`` bytes) when the server knows our
  CREATETAR/OPENTAR extension; with any other server (the original platform) the first
  refused bundle turns bundling off and its files, like all later ones, travel one
  request each.
"""

import asyncio
import logging
import os
import stat as stat_module
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import aiohttp
from yarl import URL

from . import _bundles
from ._errors import AuthorizationError, ResourceNotFound
from ._file_filter import IgnoreRules
from ._file_range_payload import FileRangePayload, read_range
from ._spliced_body import SplicedBody
from ._storage_entities import (
    AbstractFileProgress,
    AbstractRecursiveFileProgress,
    FileStatus,
    StorageProgressComplete,
    StorageProgressEnterDir,
    StorageProgressFail,
    StorageProgressLeaveDir,
    StorageProgressStart,
    StorageProgressStep,
)
from ._storage_remote import RemoteStorage, TransientServerError
from ._uris import local_path_to_uri

log = logging.getLogger(__name__)

T = TypeVar("T")
Filter = Callable[[str], Awaitable[bool]]

MAX_RETRY_DELAY_S = 5.0


@dataclass(frozen=True)
class TransferSettings:
    first_chunk_size: int = 2**20  # the CREATE body: files up to this size take one request
    # Each later WRITE body, sent from the file by the kernel. Big, because every WRITE
    # costs a round trip and a flush on the server (1 GiB in 64 MiB WRITEs took 0.63 s on
    # loopback, in one WRITE 0.53 s); a retry after a cut sends only what the server lacks.
    write_chunk_size: int = 2**30
    block_size: int = 2**20  # local reads and writes
    concurrency: int = 32  # requests in flight within one directory transfer
    max_attempts: int = 10
    retry_delay_s: float = 0.1  # doubled after each failed attempt
    bundle_file_size: int = 64 * 1024  # files up to this size travel in bundles
    bundle_files: int = 256  # the most files in one bundle
    bundle_bytes: int = 4 * 2**20  # the most content in one bundle (32 may be in flight)


class _NoProgress(AbstractRecursiveFileProgress):
    def start(self, data: StorageProgressStart) -> None:
        pass

    def step(self, data: StorageProgressStep) -> None:
        pass

    def complete(self, data: StorageProgressComplete) -> None:
        pass

    def enter(self, data: StorageProgressEnterDir) -> None:
        pass

    def leave(self, data: StorageProgressLeaveDir) -> None:
        pass

    def fail(self, data: StorageProgressFail) -> None:
        pass


NO_PROGRESS = _NoProgress()


def resume_offset(
    *,
    src_size: int,
    src_mtime: float,
    dst_size: int | None,
    dst_mtime: float | None,
    update: bool,
    continue_: bool,
) -> int | None:
    """Where to start copying a file: None skips it, 0 copies it whole.

    The server keeps modification times in whole seconds, so times are compared in whole
    seconds: a destination written in the same second as the source counts as newer.
    """
    if dst_size is None or dst_mtime is None:
        return 0
    destination_is_newer = int(dst_mtime) >= int(src_mtime)
    if update and destination_is_newer:
        return None
    if continue_ and destination_is_newer and dst_size <= src_size:
        return None if dst_size == src_size else dst_size
    return 0


async def run_all(coroutines: list[Coroutine[Any, Any, None]]) -> None:
    """Runs the coroutines together; the first failure cancels the rest and is raised as is."""
    try:
        async with asyncio.TaskGroup() as group:
            for coroutine in coroutines:
                group.create_task(coroutine)
    except BaseExceptionGroup as errors:
        # Callers expect the documented exceptions (FileNotFoundError...), not a group.
        raise _first_leaf(errors) from None


def _first_leaf(errors: BaseExceptionGroup[BaseException]) -> BaseException:
    first = errors.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


# A big upload grows under `<name>` + this suffix and is renamed to `<name>` when complete, so
# the name never holds a half file, and an interrupted upload is visible as such.
STAGING_SUFFIX = ".neuro-upload"
NAME_MAX = 255


def staging_uri(dst: URL) -> URL | None:
    """Where a big upload to `dst` grows; None where the name would be too long (then it
    grows in place, as before)."""
    name = dst.name + STAGING_SUFFIX
    if len(name.encode()) > NAME_MAX:
        return None
    return dst.with_name(name)


def staged_offset(
    *, src_size: int, src_mtime: float, staged: FileStatus | None, time_diff: float
) -> int | None:
    """Where a continued upload carries on in its staging file; None without a usable one
    (missing, older than the source, or bigger)."""
    if staged is None or not staged.is_file():
        return None
    offset = resume_offset(
        src_size=src_size,
        src_mtime=src_mtime,
        dst_size=staged.size,
        dst_mtime=staged.modification_time - time_diff,
        update=False,
        continue_=True,
    )
    if offset == 0:  # stale: start afresh
        return None
    return src_size if offset is None else offset  # None: complete, only the rename is left


class Transfers:
    def __init__(self, remote: RemoteStorage, settings: TransferSettings) -> None:
        self._remote = remote
        self.settings = settings
        self._bundles = True  # until the server refuses one

    async def retrying(self, action: Callable[[], Awaitable[T]], what: str) -> T:
        attempt = 1
        while True:
            try:
                return await action()
            except (aiohttp.ClientError, TransientServerError) as error:
                attempt += 1
                await self._pause_or_give_up(error, attempt, what)

    # -- one file --------------------------------------------------------------------------

    async def upload(
        self,
        src: Path,
        dst: URL,
        *,
        size: int,
        offset: int,
        progress: AbstractFileProgress,
        staged: bool = False,
    ) -> None:
        """Uploads `src` from `offset` on: of `dst` itself (a prefix of it is there), or, with
        `staged`, of its staging file. A fresh upload bigger than one CREATE always grows in
        the staging file (`staging_uri`) and is renamed into place when complete."""
        src_uri = local_path_to_uri(src)
        progress.start(StorageProgressStart(src_uri, dst, size))

        def report(position: int) -> None:
            progress.step(StorageProgressStep(src_uri, dst, position, size))

        staging = staging_uri(dst)
        if staging is None or not (
            staged or (offset == 0 and size > self.settings.first_chunk_size)
        ):
            staging = None
        target = staging or dst
        position = offset
        if offset == 0:
            first = await _blocking_io(size, read_range, src, 0, self.settings.first_chunk_size)
            try:
                await self.retrying(lambda: self._remote.create(target, first), f"Upload of {src}")
            except AuthorizationError:
                if staging is None:
                    raise
                # Write was shared on the file alone, not its folder: grow it in place.
                staging, target = None, dst
                await self.retrying(lambda: self._remote.create(dst, first), f"Upload of {src}")
            position = len(first)
            report(position)
        while position < size:
            length = min(self.settings.write_chunk_size, size - position)
            await self._write_chunk(src, target, position, length, report)
            position += length
            report(position)
        if staging is not None:
            await self._rename_into_place(staging, dst, size, f"Upload of {src}")
        progress.complete(StorageProgressComplete(src_uri, dst, size))

    async def _rename_into_place(self, staging: URL, dst: URL, size: int, what: str) -> None:
        try:
            await self.retrying(lambda: self._remote.rename(staging, dst), what)
        except (ResourceNotFound, FileNotFoundError):
            # A retried RENAME whose first answer was lost finds the staging file gone.
            done = await self.retrying(lambda: self._remote.stat_or_none(dst), what)
            if done is None or done.size != size:
                raise

    async def _write_chunk(
        self, src: Path, dst: URL, start: int, length: int, report: Callable[[int], None]
    ) -> None:
        """Sends bytes `start`..`start + length`; after a cut, only what the server lacks.

        The server writes a WRITE's body into the file as it arrives, so after a failed
        attempt the file's size says how far it got: the next attempt starts there instead
        of resending the whole range (and a big range costs nothing extra to lose)."""
        end = start + length

        def reporting_from(first: int) -> Callable[[int], None]:
            def sent(count: int) -> None:
                if first + count < end:  # the whole range is reported once stored
                    report(first + count)

            return sent

        position = start
        attempt = 1
        while True:
            try:
                # Each attempt reads the range from the file anew: nothing big is in memory.
                payload = FileRangePayload(src, position, end - position, reporting_from(position))
                await self._remote.write(dst, position, end - position, payload)
                return
            except (aiohttp.ClientError, TransientServerError) as error:
                reached = await self.retrying(lambda: self._remote.stat(dst), f"Upload of {src}")
                if reached.size == end:  # all of it arrived; only the answer was lost
                    return
                if position < reached.size < end:  # anything else: resend the rest
                    position = reached.size
                    attempt = 1  # bytes got through: the connection works
                attempt += 1
                await self._pause_or_give_up(error, attempt, f"Upload of {src}")

    async def download(
        self, src: URL, dst: Path, *, size: int, offset: int, progress: AbstractFileProgress
    ) -> None:
        dst_uri = local_path_to_uri(dst)
        progress.start(StorageProgressStart(src, dst_uri, size))
        if offset == 0 and size <= self.settings.first_chunk_size:
            await self._download_whole(src, dst, progress, dst_uri)
            return
        sink = _Sink(await _blocking_io(size, _open_for_download, dst, offset), offset)
        total = size
        try:
            attempt = 1
            while not (0 < total <= sink.position):
                before = sink.position
                try:
                    total = await self._receive(src, sink, progress, dst_uri)
                    break
                except (aiohttp.ClientError, TransientServerError) as error:
                    # Bytes that arrived before the failure count: a cut costs nothing twice.
                    attempt = 1 if sink.position > before else attempt + 1
                    await self._pause_or_give_up(error, attempt, f"Download of {src}")
        finally:
            try:
                # Even when cancelled: the file is closed only once no thread writes to it.
                await asyncio.shield(sink.flush())
            finally:
                await _blocking_io(size, sink.file.close)
        progress.complete(StorageProgressComplete(src, dst_uri, total))

    async def _download_whole(
        self, src: URL, dst: Path, progress: AbstractFileProgress, dst_uri: URL
    ) -> None:
        """A small file: received into memory, then written in one go (in a worker thread:
        creating a file can take a millisecond, which the event loop spends on the next
        requests meanwhile)."""

        async def receive() -> bytes:
            async with self._remote.open(src) as (span, answer):
                content = await answer.content.read()
            if len(content) < span.total:
                raise aiohttp.ClientPayloadError("The answer ended before the end of the file")
            return content

        content = await self.retrying(receive, f"Download of {src}")
        await asyncio.to_thread(_write_whole, dst, content)
        if content:
            progress.step(StorageProgressStep(src, dst_uri, len(content), len(content)))
        progress.complete(StorageProgressComplete(src, dst_uri, len(content)))

    async def _receive(
        self, src: URL, sink: "_Sink", progress: AbstractFileProgress, dst_uri: URL
    ) -> int:
        """Reads the file from the sink's position to its end; returns the file's size."""
        async with self._remote.open(src, sink.position) as (span, answer):
            reported = sink.position

            def report(position: int) -> None:
                nonlocal reported
                reported = position
                progress.step(StorageProgressStep(src, dst_uri, position, span.total))

            spliced = SplicedBody.take(answer)
            try:
                if spliced is not None:
                    sink.add(spliced.buffered)
                    await sink.flush()
                    start = sink.position
                    try:
                        await spliced.into(
                            sink.file.fileno(),
                            lambda moved: report(start + moved),
                            self.settings.block_size,
                        )
                    finally:
                        sink.position += spliced.moved
                else:
                    async for chunk in answer.content.iter_any():
                        sink.add(chunk)
                        if sink.pending_size >= self.settings.block_size:
                            await sink.hand_over()
                            report(sink.position)
            finally:
                await sink.flush()
            if sink.position < span.total:
                raise aiohttp.ClientPayloadError("The answer ended before the end of the file")
            if sink.position != reported:
                report(sink.position)
            return span.total

    async def _pause_or_give_up(self, error: Exception, attempt: int, what: str) -> None:
        if attempt > self.settings.max_attempts:
            if isinstance(error, TransientServerError):
                raise error.error from None
            raise error
        delay = min(self.settings.retry_delay_s * 2 ** (attempt - 2), MAX_RETRY_DELAY_S)
        log.info("%s failed (%r); resuming in %.1f s", what, error, delay)
        await asyncio.sleep(delay)

    # -- bundles of small files -------------------------------------------------------------

    async def _upload_bundle(
        self, target: URL, paths: list[Path], progress: AbstractFileProgress
    ) -> bool:
        """Uploads the files into the directory ``target`` in one request; False when the
        server cannot take bundles (or a file cannot be read), and nothing was reported:
        the caller then uploads them one by one, which reports any error as usual."""
        if not self._bundles:
            return False
        try:
            archive, sizes = await asyncio.to_thread(
                _bundles.pack, [(path.name, path) for path in paths]
            )
        except OSError:
            return False
        try:
            await self.retrying(
                lambda: self._remote.create_tar(target, archive), f"Upload to {target}"
            )
        except (aiohttp.ClientError, TransientServerError):
            raise
        except Exception as error:  # the server refused the extension (or this bundle)
            log.info("bundled upload refused (%r); uploading file by file", error)
            self._bundles = False
            return False
        for path in paths:
            src_uri, dst, size = local_path_to_uri(path), target / path.name, sizes[path.name]
            progress.start(StorageProgressStart(src_uri, dst, size))
            if size:
                progress.step(StorageProgressStep(src_uri, dst, size, size))
            progress.complete(StorageProgressComplete(src_uri, dst, size))
        return True

    async def _download_bundle(
        self, source: URL, files: list[tuple[FileStatus, Path]], progress: AbstractFileProgress
    ) -> list[tuple[FileStatus, Path]]:
        """Downloads the files of the directory ``source`` in one request; returns those
        that did not come (all of them when the server cannot send bundles)."""
        if not self._bundles:
            return files
        names = [status.name for status, _ in files]
        try:
            archive = await self.retrying(
                lambda: self._remote.open_tar(source, names, self.settings.bundle_file_size),
                f"Download of {source}",
            )
        except (aiohttp.ClientError, TransientServerError):
            raise
        except Exception as error:  # the server refused the extension (or this bundle)
            log.info("bundled download refused (%r); downloading file by file", error)
            self._bundles = False
            return files
        targets = {status.name: target for status, target in files}
        written = await asyncio.to_thread(_bundles.unpack, archive, targets)
        missing = []
        for status, target in files:
            size = written.get(status.name)
            if size is None:
                missing.append((status, target))
                continue
            dst_uri = local_path_to_uri(target)
            progress.start(StorageProgressStart(status.uri, dst_uri, size))
            if size:
                progress.step(StorageProgressStep(status.uri, dst_uri, size, size))
            progress.complete(StorageProgressComplete(status.uri, dst_uri, size))
        return missing

    # -- directory trees --------------------------------------------------------------------

    async def upload_tree(
        self,
        src: Path,
        dst: URL,
        *,
        update: bool,
        continue_: bool,
        filter: Filter | None,
        ignore_file_names: frozenset[str],
        progress: AbstractRecursiveFileProgress,
    ) -> None:
        slots = asyncio.Semaphore(self.settings.concurrency)

        def offset_of(info: os.stat_result, remote: FileStatus | None) -> int | None:
            return resume_offset(
                src_size=info.st_size,
                src_mtime=info.st_mtime,
                dst_size=remote.size if remote is not None and remote.is_file() else None,
                dst_mtime=(
                    remote.modification_time - self._remote.time_diff
                    if remote is not None and remote.is_file()
                    else None
                ),
                update=update,
                continue_=continue_,
            )

        async def upload_file(
            path: Path, info: os.stat_result, target: URL, offset: int, staged: bool = False
        ) -> None:
            async with slots:
                await self.upload(
                    path,
                    target,
                    size=info.st_size,
                    offset=offset,
                    progress=progress,
                    staged=staged,
                )

        async def upload_bundle(target: URL, files: list[tuple[Path, os.stat_result]]) -> None:
            async with slots:
                sent = await self._upload_bundle(target, [path for path, _ in files], progress)
            if not sent:
                await run_all([upload_file(p, i, target / p.name, 0) for p, i in files])

        async def upload_dir(
            directory: Path, target: URL, relative: str, rules: IgnoreRules
        ) -> None:
            src_uri = local_path_to_uri(directory)
            progress.enter(StorageProgressEnterDir(src_uri, target))
            async with slots:
                await self.retrying(lambda: self._remote.mkdirs(target), f"mkdir {target}")
            existing: dict[str, FileStatus] = {}
            if update or continue_:
                async with slots:
                    existing = {s.name: s async for s in self._remote.list(target)}
            entries = await asyncio.to_thread(_scan_local, directory)
            rules = await asyncio.to_thread(rules.entering, directory, relative, ignore_file_names)
            jobs: list[Coroutine[Any, Any, None]] = []
            bundled: list[tuple[Path, os.stat_result]] = []
            for name, info in entries:
                child_relative = f"{relative}/{name}" if relative else name
                child, child_target = directory / name, target / name
                is_dir = stat_module.S_ISDIR(info.st_mode)
                if rules.is_ignored(child_relative, is_dir=is_dir):
                    continue
                if filter is not None and not await filter(child_relative):
                    continue
                if is_dir:
                    jobs.append(upload_dir(child, child_target, child_relative, rules))
                elif stat_module.S_ISREG(info.st_mode):
                    offset = offset_of(info, existing.get(name))
                    resumed = None
                    if continue_ and offset == 0:  # an interrupted staged upload, if any
                        resumed = staged_offset(
                            src_size=info.st_size,
                            src_mtime=info.st_mtime,
                            staged=existing.get(name + STAGING_SUFFIX),
                            time_diff=self._remote.time_diff,
                        )
                    if resumed is not None:
                        jobs.append(upload_file(child, info, child_target, resumed, staged=True))
                    elif offset == 0 and info.st_size <= self.settings.bundle_file_size:
                        bundled.append((child, info))
                    elif offset is not None:
                        jobs.append(upload_file(child, info, child_target, offset))
                else:
                    progress.fail(
                        StorageProgressFail(
                            local_path_to_uri(child), child_target, "Cannot upload special file"
                        )
                    )
            for bundle in _bundles.split(bundled, lambda f: f[1].st_size, self.settings):
                jobs.append(upload_bundle(target, bundle))
            await run_all(jobs)
            progress.leave(StorageProgressLeaveDir(src_uri, target))

        await upload_dir(src, dst, "", IgnoreRules())

    async def download_tree(
        self,
        src: URL,
        dst: Path,
        *,
        update: bool,
        continue_: bool,
        filter: Filter | None,
        progress: AbstractRecursiveFileProgress,
    ) -> None:
        slots = asyncio.Semaphore(self.settings.concurrency)

        async def offset_of(status: FileStatus, target: Path) -> int | None:
            # The local file matters only to update and continue: no stat otherwise.
            local = None
            if update or continue_:
                local = await asyncio.to_thread(_stat_or_none, target)
            return resume_offset(
                src_size=status.size,
                src_mtime=status.modification_time - self._remote.time_diff,
                dst_size=local.st_size if local is not None else None,
                dst_mtime=local.st_mtime if local is not None else None,
                update=update,
                continue_=continue_,
            )

        async def download_file(status: FileStatus, target: Path, offset: int) -> None:
            async with slots:
                await self.download(
                    status.uri, target, size=status.size, offset=offset, progress=progress
                )

        async def download_bundle(directory: URL, files: list[tuple[FileStatus, Path]]) -> None:
            async with slots:
                missing = await self._download_bundle(directory, files, progress)
            await run_all([download_file(status, target, 0) for status, target in missing])

        async def download_dir(directory: URL, target: Path, relative: str) -> None:
            target_uri = local_path_to_uri(target)
            progress.enter(StorageProgressEnterDir(directory, target_uri))
            await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)

            async def listing() -> list[FileStatus]:
                return [status async for status in self._remote.list(directory)]

            async with slots:
                entries = await self.retrying(listing, f"Listing of {directory}")
            jobs: list[Coroutine[Any, Any, None]] = []
            bundled: list[tuple[FileStatus, Path]] = []
            for status in entries:
                child_relative = f"{relative}/{status.name}" if relative else status.name
                if filter is not None and not await filter(child_relative):
                    continue
                child_target = target / status.name
                if status.is_dir():
                    jobs.append(download_dir(status.uri, child_target, child_relative))
                elif status.is_file():
                    offset = await offset_of(status, child_target)
                    if offset == 0 and status.size <= self.settings.bundle_file_size:
                        bundled.append((status, child_target))
                    elif offset is not None:
                        jobs.append(download_file(status, child_target, offset))
                else:
                    progress.fail(
                        StorageProgressFail(
                            status.uri,
                            local_path_to_uri(child_target),
                            f"Cannot download {status.type.lower()} {status.name}",
                        )
                    )
            for bundle in _bundles.split(bundled, lambda f: f[0].size, self.settings):
                jobs.append(download_bundle(directory, bundle))
            await run_all(jobs)
            progress.leave(StorageProgressLeaveDir(directory, target_uri))

        await download_dir(src, dst, "")


@dataclass
class _Sink:
    """A local file being downloaded: bytes received are written in blocks.

    ``position`` counts the bytes written. While one block is written in a worker thread
    the next one is received (disk and network overlap); a block is handed over only once
    the previous one is written, so at most two blocks are in memory. A block is the list
    of chunks as received, written with one writev(2): joining them first would copy
    every byte of the download once more.
    """

    file: BinaryIO
    position: int
    pending: list[bytes] = field(default_factory=list)
    pending_size: int = 0
    _writing: "asyncio.Future[int] | None" = None

    def add(self, chunk: bytes) -> None:
        self.pending.append(chunk)
        self.pending_size += len(chunk)

    async def hand_over(self) -> None:
        """Starts writing the pending bytes, after the previous block is written."""
        await self._settle()
        if self.pending:
            data = self._take()
            self._writing = asyncio.ensure_future(asyncio.to_thread(self._write, data))

    async def flush(self) -> None:
        """Writes everything received so far."""
        await self._settle()
        if self.pending:
            data = self._take()
            self.position += await _blocking_io(sum(map(len, data)), self._write, data)

    def _take(self) -> list[bytes]:
        data, self.pending, self.pending_size = self.pending, [], 0
        return data

    async def _settle(self) -> None:
        if self._writing is not None:
            # Shielded and forgotten only once done: a cancelled download still waits for
            # its last write before it closes the file.
            written = await asyncio.shield(self._writing)
            self._writing = None
            self.position += written

    def _write(self, chunks: list[bytes]) -> int:
        """Writes all of the chunks at the file's position (the file is unbuffered)."""
        fd = self.file.fileno()
        total = sum(map(len, chunks))
        views = [memoryview(chunk) for chunk in chunks]
        while views:
            written = os.writev(fd, views[:_IOV_MAX])
            while views and written >= len(views[0]):
                written -= len(views[0])
                views.pop(0)
            if views and written:
                views[0] = views[0][written:]
        return total


_IOV_MAX = 1024  # the most buffers one writev(2) takes on Linux


# Below this many bytes a local read or write costs less than a hop to a worker thread;
# thousands of small files then spend their CPU on the transfer, not on thread handoffs.
INLINE_IO_LIMIT = 256 * 1024


async def _blocking_io(size: int, function: Callable[..., T], *args: Any) -> T:
    if size <= INLINE_IO_LIMIT:
        return function(*args)
    return await asyncio.to_thread(function, *args)


def _open_for_download(path: Path, offset: int) -> BinaryIO:
    # Unbuffered: _Sink writes with os.writev, at the position of the fd itself.
    if offset == 0:
        return path.open("wb", buffering=0)
    file = path.open("r+b", buffering=0)
    file.seek(offset)
    file.truncate()
    return file


def _write_whole(path: Path, content: bytes) -> None:
    with path.open("wb") as file:
        file.write(content)


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _scan_local(directory: Path) -> list[tuple[str, os.stat_result]]:
    """The entries of a directory, sorted, with their stat.

    Symlinks to files are followed; a symlink to a directory keeps its own stat (so it is
    reported as a special file), since following those can loop forever.
    """
    entries = []
    with os.scandir(directory) as scan:
        for entry in scan:
            try:
                info = entry.stat(follow_symlinks=True)
                if entry.is_symlink() and stat_module.S_ISDIR(info.st_mode):
                    info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # a dangling symlink, or removed meanwhile
            entries.append((entry.name, info))
    return sorted(entries)
