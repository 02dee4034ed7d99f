"""Host paths for a job's bind mounts that nothing can redirect between check and use.

Docker resolves a bind source by its path when the container starts, following symlinks. A
storage folder is writable by jobs, so a path checked by the server could have become a
symlink to `/` by then. Instead the server opens the source directory itself (for storage,
one name at a time from the storage root, never following a symlink: `storage/anchored.py`)
and binds exactly that directory onto a staging directory, `<root>/<job id>/<n>`, with
mount(2) of the magic link `/proc/self/fd/<fd>`: the kernel binds the directory the fd refers
to, not whatever a path names now. Docker gets the staging path, which lives in a directory
only root can enter and no job ever sees.

A container keeps its own copies of its bind mounts, so the staging mounts are needed only
until the container has started: `release` undoes them then, when the job is collected, and
at start-up for jobs without a container. Release only ever unmounts and removes empty
directories: a recursive delete of a staging dir still mounted would delete the user's data.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
from collections.abc import Callable, Collection
from pathlib import Path
from typing import cast

log = logging.getLogger(__name__)

_MS_BIND = 4096
_MNT_DETACH = 2
# Stacked mounts (a crash between staging and release, then a new stage) are unmounted one
# by one; this bounds the loop should the kernel keep answering success.
_MAX_STACKED = 64
_MountFunction = Callable[[bytes, bytes, bytes | None, int, bytes | None], int]
_Umount2Function = Callable[[bytes, int], int]


class StagingError(OSError):
    """A bind mount could not be staged (e.g. the server lacks CAP_SYS_ADMIN)."""


def _libc() -> tuple[_MountFunction, _Umount2Function]:
    libc = ctypes.CDLL(None, use_errno=True)
    mount = libc.mount
    mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_void_p,
    ]
    mount.restype = ctypes.c_int
    umount2 = libc.umount2
    umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    umount2.restype = ctypes.c_int
    return cast(_MountFunction, mount), cast(_Umount2Function, umount2)


_mount, _umount2 = _libc()


class MountStaging:
    def __init__(self, root: Path) -> None:
        self._root = root

    def bind(self, job_id: str, name: str, fd: int) -> Path:
        """Binds the directory `fd` refers to onto the job's staging dir `name`; returns it."""
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self._root, 0o700)  # an older or hand-made one must not be enterable by jobs
        job_dir = self._root / job_id
        job_dir.mkdir(mode=0o700, exist_ok=True)
        target = job_dir / name
        target.mkdir(mode=0o700)
        if _mount(f"/proc/self/fd/{fd}".encode(), bytes(target), None, _MS_BIND, None) != 0:
            code = ctypes.get_errno()
            target.rmdir()
            raise StagingError(code, f"bind mount failed: {os.strerror(code)}")
        return target

    def release(self, job_id: str) -> None:
        """Unmounts and removes the job's staging dirs; what cannot be removed is logged."""
        job_dir = self._root / job_id
        try:
            names = os.listdir(job_dir)
        except FileNotFoundError:
            return
        for name in names:
            _unmount_all(job_dir / name)
            try:
                (job_dir / name).rmdir()
            except OSError as e:
                log.error("staging dir %s of job %s stays: %s", name, job_id, e.strerror)
        try:
            job_dir.rmdir()
        except OSError as e:
            log.error("staging dir of job %s stays: %s", job_id, e.strerror)

    def release_all_except(self, job_ids: Collection[str]) -> None:
        """At start-up: staging dirs of jobs without a container are left-overs."""
        if self._root.is_dir():
            for entry in os.listdir(self._root):
                if entry not in job_ids:
                    self.release(entry)


def _unmount_all(path: Path) -> None:
    for _ in range(_MAX_STACKED):
        if _umount2(bytes(path), _MNT_DETACH) != 0:
            code = ctypes.get_errno()
            if code not in (errno.EINVAL, errno.ENOENT):  # EINVAL: not (or no longer) a mount
                log.error("unmounting %s failed: %s", path, os.strerror(code))
            return
