"""The data dir: private to the platform's user, and used by one server at a time.

It holds the database, the signing and secrets keys and the job logs, so it is 0700: no
other local user may even list it, whatever the modes of the files inside (which are 0600
where we create them: see `db/engine.py` and `jobs/log_archive.py`).

A second `serve` on the same data dir would run migrations and job adoption and, on its way
out, unmount the disks of the live server. `lock_data_dir` stops it first: an exclusive
`flock` on `<data dir>/server.lock`, held for the life of the process (the kernel drops it
when the process ends, even on SIGKILL, so there is never a stale lock to clean up).

Servers on PostgreSQL share the data dir instead (docs/scale-out.md): each takes the lock
shared, so they exclude a SQLite server and the offline commands that take it exclusively
(`registry gc`), not each other. Migrations are serialized by the database (`db/migrate.py`)
and the loops that must run once by the leader election (`leadership.py`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

DATA_DIR_MODE = 0o700
LOCK_FILE_NAME = "server.lock"


class DataDirInUseError(RuntimeError):
    pass


def prepare_data_dir(path: Path) -> None:
    """Creates the data dir, or narrows an existing one (from an older version) to 0700."""
    path.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DATA_DIR_MODE)


class DataDirLock:
    """The exclusive lock of one server process on its data dir; see the module doc."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = -1


def lock_data_dir(path: Path, *, shared: bool = False) -> DataDirLock:
    """Takes the lock (exclusive, or `shared` with other servers on one PostgreSQL) or
    raises DataDirInUseError naming the holder's pid."""
    prepare_data_dir(path)
    lock_path = path / LOCK_FILE_NAME
    # O_CLOEXEC (Python's default): processes the server starts (mount, mkfs) must not
    # inherit the lock and keep holding it after the server is gone.
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_pid(fd)
        os.close(fd)
        who = f" (pid {holder})" if holder else ""
        raise DataDirInUseError(
            f"another neuro-platform server{who} is using the data dir {path}"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    # The pid is only for the message above: the flock, not the file's content, is the lock.
    # (Shared holders overwrite each other's: the message then names one of them.)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return DataDirLock(fd, lock_path)


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip())
    return None
