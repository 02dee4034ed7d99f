"""Blocking file operations anchored at a storage root, reached only through directory fds.

Every path is walked one name at a time with `openat(..., O_NOFOLLOW | O_DIRECTORY)`, and the
last name is handled relative to its parent's fd without following symlinks. So neither a
symlink planted inside the tree (say by a job writing to a mounted volume) nor a rename racing
with a request can lead an operation outside the root: there is no string path to re-resolve.
Symlinks are listed and can be removed or renamed, but are never followed. Only regular files
are opened, with O_NONBLOCK so a planted FIFO cannot hang a worker thread.

These functions block; `filesystem.py` runs them in worker threads.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import stat
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from .entries import DiskUsage, FileInfo, FileType, RemovedEntry
from .errors import DestinationError, StorageError
from .paths import PARTIAL_UPLOAD_PREFIX, StoragePath, is_hidden_partial_upload

_ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_DIR_FLAGS = _ROOT_FLAGS | os.O_NOFOLLOW
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_WRITE_FLAGS = os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_MODE = 0o666  # narrowed by the server's umask, like any file it creates
_NEW_DIR_MODE = 0o777
# Files of one bundle are fsynced together, this many at a time: the disk's journal commits
# the concurrent fsyncs as one, where one file after another paid a commit each. The
# group also bounds the fds a bundle holds (two per file).
_SYNC_GROUP = 32
_IOV_MAX = 1024  # the most buffers one pwritev(2) takes on Linux
_SYNC_FILE_RANGE_WRITE = 2
_SPLICE_F_MOVE = getattr(os, "SPLICE_F_MOVE", 1)


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """sync_file_range(2) from the C library (Linux only; Python has no binding of it)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return cast(Callable[[int, int, int, int], int], function)


# Only a hint: its result is not checked (the fsync that follows reports any error).
_sync_file_range = _load_sync_file_range()
_syncs = ThreadPoolExecutor(max_workers=_SYNC_GROUP, thread_name_prefix="storage-fsync")


@contextmanager
def _translated(path: StoragePath) -> Iterator[None]:
    try:
        yield
    except OSError as e:
        raise StorageError.from_os_error(e, str(path)) from None


class GuardedFd:
    """A file descriptor that cannot be closed while a worker thread still uses it.

    An async caller that is cancelled may close the file while its last read or write is
    still running in a thread; without the lock the fd number could be reused by another
    open file and that thread would read or write the wrong file.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._closed = False

    def pread(self, size: int, offset: int) -> bytes:
        with self._lock:
            self._check_open()
            return os.pread(self._fd, size, offset)

    def pwrite_all(self, data: bytes | bytearray | memoryview, offset: int) -> None:
        view = memoryview(data)
        with self._lock:
            self._check_open()
            while view:
                written = os.pwrite(self._fd, view, offset)
                view = view[written:]
                offset += written

    def pwritev_all(self, chunks: Sequence[bytes | bytearray | memoryview], offset: int) -> None:
        """Writes the chunks one after another from `offset` with pwritev(2): the bytes go
        to the file as they were received, without being joined into one buffer first."""
        views = [memoryview(chunk) for chunk in chunks if len(chunk)]
        with self._lock:
            self._check_open()
            while views:
                written = os.pwritev(self._fd, views[:_IOV_MAX], offset)
                offset += written
                while views and written >= len(views[0]):
                    written -= len(views[0])
                    views.pop(0)
                if views and written:
                    views[0] = views[0][written:]

    def splice_from(self, pipe_fd: int, length: int, offset: int) -> int:
        """Moves up to `length` bytes from the pipe into the file at `offset` with
        splice(2), without them passing through Python; returns how many it moved."""
        with self._lock:
            self._check_open()
            return os.splice(pipe_fd, self._fd, length, offset_dst=offset, flags=_SPLICE_F_MOVE)

    def start_writeback(self, offset: int, length: int) -> None:
        """Asks the kernel to start writing these bytes to disk now, without waiting
        (sync_file_range(2) with SYNC_FILE_RANGE_WRITE; a no-op where that is missing).
        The disk then works while the next bytes arrive, and the fsync that ends an upload
        waits only for what was written last."""
        if _sync_file_range is None:
            return
        with self._lock:
            self._check_open()
            _sync_file_range(self._fd, offset, length, _SYNC_FILE_RANGE_WRITE)

    def fdatasync(self) -> None:
        with self._lock:
            self._check_open()
            os.fdatasync(self._fd)

    def duplicate(self) -> BinaryIO:
        """A file object of its own on the same open file (for `loop.sendfile`)."""
        with self._lock:
            self._check_open()
            return os.fdopen(os.dup(self._fd), "rb")

    def fsync(self) -> None:
        with self._lock:
            self._check_open()
            os.fsync(self._fd)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._fd)

    def _check_open(self) -> None:
        if self._closed:
            raise OSError(errno.EBADF, "file already closed")


@dataclass
class PendingUpload:
    """A new file being written under a hidden temporary name in its target directory.

    `commit` makes it appear under the final name in one rename, after fsync; `discard`
    removes it. Until then no reader can see the new content under the final name.

    What a committed CREATE promises (docs/storage.md): every reader sees the whole new
    file at once, and after a crash of the server or of the machine the final name holds
    either the whole new file or what it held before, never a part. The file's content is
    fsynced before the rename; the directory is not, so a CREATE acknowledged in the last
    seconds before a power loss may be missing afterwards (as after `cp`), but never
    truncated. Skipping that second fsync per file halves the disk flushes of many small
    uploads.
    """

    path: StoragePath
    dir_fd: int
    temporary_name: str
    file: GuardedFd
    size: int = 0
    _finished: bool = field(default=False, repr=False)
    _synced: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def write(self, data: bytes | bytearray) -> None:
        with _translated(self.path):
            self.file.pwrite_all(data, self.size)
        self.size += len(data)

    def write_chunks(self, chunks: Sequence[bytes]) -> None:
        """Appends the chunks in one pwritev(2) (see `GuardedFd.pwritev_all`) and starts
        writing them to disk, so that the fsync of `commit` has little left to wait for."""
        length = sum(map(len, chunks))
        with _translated(self.path):
            self.file.pwritev_all(chunks, self.size)
            self.file.start_writeback(self.size, length)
        self.size += length

    def sync(self) -> None:
        """Flushes the content to disk now (`commit` then skips its own fsync)."""
        with _translated(self.path):
            self.file.fsync()
        self._synced = True

    def commit(self) -> None:
        with self._lock, _translated(self.path):
            if self._finished:
                raise OSError(errno.EBADF, "upload already finished")
            if not self._synced:
                self.file.fsync()
            self.file.close()
            os.rename(
                self.temporary_name,
                self.path.name,
                src_dir_fd=self.dir_fd,
                dst_dir_fd=self.dir_fd,
            )
            self._finish()

    def discard(self) -> None:
        """Idempotent; a no-op after a successful commit."""
        with self._lock:
            if self._finished:
                return
            self.file.close()
            with suppress(FileNotFoundError):
                os.unlink(self.temporary_name, dir_fd=self.dir_fd)
            self._finish()

    def _finish(self) -> None:
        self._finished = True
        os.close(self.dir_fd)


class AnchoredTree:
    def __init__(self, root: Path) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        return self._root

    def ensure_root(self) -> None:
        self._root.mkdir(parents=True, exist_ok=True)

    # -- reading metadata -----------------------------------------------------------------

    def stat(self, path: StoragePath) -> FileInfo:
        with _translated(path):
            if path.is_root:
                with self._directory(path) as fd:
                    return FileInfo.of_stat("", os.stat(fd))
            with self._directory(path.parent) as fd:
                return _entry_info(fd, path.name)

    def iter_dir(self, path: StoragePath) -> Iterator[FileInfo]:
        """Entries of a directory, streamed; uploads in progress are not shown."""
        with _translated(path), self._directory(path) as fd, os.scandir(fd) as entries:
            for entry in entries:
                if is_hidden_partial_upload(entry.name):
                    continue
                try:
                    info = _entry_info(fd, entry.name)
                except FileNotFoundError:
                    continue  # removed while we were listing
                yield info

    def disk_usage(self) -> DiskUsage:
        with _translated(StoragePath()), self._directory(StoragePath()) as fd:
            st = os.fstatvfs(fd)
        return DiskUsage(
            total=st.f_blocks * st.f_frsize,
            used=(st.f_blocks - st.f_bfree) * st.f_frsize,
            free=st.f_bavail * st.f_frsize,
        )

    # -- reading and writing file content ----------------------------------------------

    def open_for_reading(self, path: StoragePath) -> tuple[GuardedFd, FileInfo]:
        return self._open_regular(path, _READ_FLAGS)

    def open_for_writing(self, path: StoragePath) -> tuple[GuardedFd, FileInfo]:
        return self._open_regular(path, _WRITE_FLAGS)

    def create_whole(self, path: StoragePath, content: bytes) -> None:
        """Writes a small file completely in one call (one worker-thread hop per file)."""
        upload = self.start_upload(path)
        try:
            upload.write(content)
            upload.commit()
        finally:
            upload.discard()

    def create_many(self, directory: StoragePath, files: Sequence[tuple[str, bytes]]) -> None:
        """Creates each file in `directory` as `create_whole` would (each one atomic and
        fsynced before its rename), fsyncing groups of them concurrently."""
        for start in range(0, len(files), _SYNC_GROUP):
            uploads: list[PendingUpload] = []
            try:
                for name, content in files[start : start + _SYNC_GROUP]:
                    uploads.append(self.start_upload(directory.child(name)))
                    uploads[-1].write(content)
                list(_syncs.map(PendingUpload.sync, uploads))  # re-raises the first failure
                for upload in uploads:
                    upload.commit()
            finally:
                for upload in uploads:
                    upload.discard()

    def read_whole(self, path: StoragePath, limit: int) -> tuple[FileInfo, bytes | GuardedFd]:
        """A file's content if it has at most `limit` bytes (the fd is closed), else its fd."""
        file, info = self.open_for_reading(path)
        if info.length > limit:
            return info, file
        try:
            return info, file.pread(info.length, 0)
        finally:
            file.close()

    def start_upload(self, path: StoragePath) -> PendingUpload:
        """Creates missing parent directories, like MKDIRS, then a hidden temporary file."""
        if path.is_root:
            raise StorageError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        with _translated(path):
            dir_fd = self._open_directory(path.parent, create=True)
            try:
                with suppress(FileNotFoundError):
                    existing = os.stat(path.name, dir_fd=dir_fd, follow_symlinks=False)
                    if stat.S_ISDIR(existing.st_mode):
                        raise OSError(errno.EISDIR, "target is a directory")
                temporary_name = PARTIAL_UPLOAD_PREFIX + secrets.token_hex(16)
                file_fd = os.open(temporary_name, _NEW_FILE_FLAGS, _NEW_FILE_MODE, dir_fd=dir_fd)
            except BaseException:
                os.close(dir_fd)
                raise
        return PendingUpload(path, dir_fd, temporary_name, GuardedFd(file_fd))

    # -- changing the tree -------------------------------------------------------------

    def mkdirs(self, path: StoragePath) -> None:
        """Creates the directory and its missing parents; an existing directory is fine."""
        if path.is_root:
            return
        with _translated(path), self._directory(path.parent, create=True) as fd:
            try:
                os.mkdir(path.name, _NEW_DIR_MODE, dir_fd=fd)
            except FileExistsError:
                st = os.stat(path.name, dir_fd=fd, follow_symlinks=False)
                if not stat.S_ISDIR(st.st_mode):
                    raise

    def rename(self, source: StoragePath, destination: StoragePath) -> None:
        if source.is_root or destination.is_root:
            raise StorageError(errno.EBUSY, "The storage root cannot be moved", str(source))
        with _translated(source), self._directory(source.parent) as source_fd:
            os.stat(source.name, dir_fd=source_fd, follow_symlinks=False)  # 404 when missing
            try:
                with self._directory(destination.parent) as destination_fd:
                    os.rename(
                        source.name,
                        destination.name,
                        src_dir_fd=source_fd,
                        dst_dir_fd=destination_fd,
                    )
            except OSError as e:
                error = StorageError.from_os_error(e, str(destination))
                raise DestinationError(error.code, error.message, error.path) from None

    def remove(self, path: StoragePath, *, recursive: bool) -> Iterator[RemovedEntry]:
        """Removes a file, symlink or (with `recursive`) a directory tree, bottom-up.

        Yields each removed entry as it goes, so callers can report progress on huge trees.
        Only one directory's names are held in memory per level of depth.
        """
        if path.is_root:
            raise StorageError(errno.EBUSY, "The storage root cannot be removed", str(path))
        with _translated(path), self._directory(path.parent) as parent_fd:
            st = os.stat(path.name, dir_fd=parent_fd, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                os.unlink(path.name, dir_fd=parent_fd)
                yield RemovedEntry(str(path), is_dir=False)
                return
            if not recursive:
                raise OSError(errno.EISDIR, "directory needs recursive removal")
            yield from _remove_tree(parent_fd, path)

    def open_directory(self, path: StoragePath, *, create: bool = False) -> int:
        """An fd of the directory at `path`, reached without following any symlink (job
        volumes bind exactly this directory); with `create`, missing ones are made as by
        `mkdirs`. The caller closes it. Raises the OSError as it is: ELOOP for a symlink,
        ENOTDIR for a file, ENOENT for a missing name."""
        if create:
            self.ensure_root()
        return self._open_directory(path, create=create)

    # -- helpers -----------------------------------------------------------------------

    def _open_regular(self, path: StoragePath, flags: int) -> tuple[GuardedFd, FileInfo]:
        with _translated(path):
            if path.is_root:
                raise OSError(errno.EISDIR, "is a directory")
            with self._directory(path.parent) as dir_fd:
                fd = os.open(path.name, flags, dir_fd=dir_fd)
            try:
                st = os.fstat(fd)
                if stat.S_ISDIR(st.st_mode):
                    raise OSError(errno.EISDIR, "is a directory")
                if not stat.S_ISREG(st.st_mode):
                    raise OSError(errno.EINVAL, "not a regular file")
            except BaseException:
                os.close(fd)
                raise
        return GuardedFd(fd), FileInfo.of_stat(path.name, st)

    @contextmanager
    def _directory(self, path: StoragePath, *, create: bool = False) -> Iterator[int]:
        fd = self._open_directory(path, create=create)
        try:
            yield fd
        finally:
            os.close(fd)

    def _open_directory(self, path: StoragePath, *, create: bool) -> int:
        fd = os.open(self._root, _ROOT_FLAGS)
        try:
            for name in path.parts:
                if create:
                    child = _open_or_make_subdirectory(fd, name)
                else:
                    child = _open_subdirectory(fd, name)
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd


def _open_or_make_subdirectory(dir_fd: int, name: str) -> int:
    # Opening first: the directory usually exists, and a failed mkdir costs a syscall and
    # an exception for every level of every upload.
    with suppress(FileNotFoundError):
        return _open_subdirectory(dir_fd, name)
    with suppress(FileExistsError):  # made meanwhile by a concurrent request: fine
        os.mkdir(name, _NEW_DIR_MODE, dir_fd=dir_fd)
    return _open_subdirectory(dir_fd, name)


def _open_subdirectory(dir_fd: int, name: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except NotADirectoryError:
        # Linux answers ENOTDIR for a symlink under O_DIRECTORY | O_NOFOLLOW; say ELOOP so
        # the client learns the link was refused, not that a file is in the way.
        if stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP)) from None
        raise


def _entry_info(dir_fd: int, name: str) -> FileInfo:
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    target = None
    if FileType.of_mode(st.st_mode) is FileType.SYMLINK:
        target = os.readlink(name, dir_fd=dir_fd)
    return FileInfo.of_stat(name, st, target)


@dataclass
class _OpenDirectory:
    fd: int
    path: StoragePath
    subdirectories: list[str]


def _remove_tree(parent_fd: int, top: StoragePath) -> Iterator[RemovedEntry]:
    # An explicit stack instead of recursion: trees deeper than Python's recursion limit
    # must still be removable.
    stack: list[_OpenDirectory] = []
    try:
        stack.append((yield from _enter(parent_fd, top)))
        while stack:
            current = stack[-1]
            if current.subdirectories:
                name = current.subdirectories.pop()
                child = current.path.child(name)
                try:
                    stack.append((yield from _enter(current.fd, child)))
                except FileNotFoundError:
                    continue  # removed concurrently: nothing left to do
                except OSError as e:
                    if e.errno not in (errno.ENOTDIR, errno.ELOOP):
                        raise
                    # Replaced by a file or symlink since we listed it: remove that instead.
                    os.unlink(name, dir_fd=current.fd)
                    yield RemovedEntry(str(child), is_dir=False)
                continue
            stack.pop()
            os.close(current.fd)
            os.rmdir(current.path.name, dir_fd=stack[-1].fd if stack else parent_fd)
            yield RemovedEntry(str(current.path), is_dir=True)
    finally:
        for directory in stack:
            os.close(directory.fd)


def _enter(parent_fd: int, path: StoragePath) -> Generator[RemovedEntry, None, _OpenDirectory]:
    """Opens a directory, removes its non-directory entries and remembers its subdirectories.

    A generator returning the opened directory, so removals are reported as they happen.
    """
    fd = _open_subdirectory(parent_fd, path.name)
    subdirectories: list[str] = []
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    subdirectories.append(entry.name)
                    continue
                with suppress(FileNotFoundError):
                    os.unlink(entry.name, dir_fd=fd)
                    # Partial uploads go with their directory but were never visible.
                    if not is_hidden_partial_upload(entry.name):
                        yield RemovedEntry(str(path.child(entry.name)), is_dir=False)
    except BaseException:
        os.close(fd)
        raise
    return _OpenDirectory(fd, path, subdirectories)
