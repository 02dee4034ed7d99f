"""Disk storage on this machine: one ext4 image file per disk, loop-mounted by the server.

The image's size is the disk's size, so a job writing past it gets ENOSPC from the kernel,
not from a check of ours. Jobs see the mount point through a bind mount. Loop mounts do not
survive a reboot: `ensure_mounted` re-mounts an image whose mount point is empty.
Needs root (mount) and `mkfs.ext4` from e2fsprogs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path


class DiskImageError(RuntimeError):
    pass


class DiskImages:
    def __init__(self, root: Path) -> None:
        self._root = root

    def mount_point(self, disk_id: str) -> Path:
        return self._root / disk_id / "mnt"

    def _image(self, disk_id: str) -> Path:
        return self._root / disk_id / "disk.img"

    async def create(self, disk_id: str, size: int) -> None:
        image = self._image(disk_id)
        image.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with image.open("wb") as f:
            f.truncate(size)  # sparse: blocks are taken only as the job writes
        # -m 0: no blocks reserved for root, jobs may use the whole size.
        await _run("mkfs.ext4", "-q", "-F", "-m", "0", str(image))
        await self.ensure_mounted(disk_id)
        # Jobs run as whatever user their image names: let any of them write.
        os.chmod(self.mount_point(disk_id), 0o777)
        with contextlib.suppress(OSError):
            (self.mount_point(disk_id) / "lost+found").rmdir()

    async def ensure_mounted(self, disk_id: str) -> Path:
        mount_point = self.mount_point(disk_id)
        mount_point.mkdir(parents=True, exist_ok=True)
        if not mount_point.is_mount():
            await _run("mount", "-o", "loop", str(self._image(disk_id)), str(mount_point))
        return mount_point

    def used_bytes(self, disk_id: str) -> int | None:
        mount_point = self.mount_point(disk_id)
        if not mount_point.is_mount():
            return None
        stats = os.statvfs(mount_point)
        return (stats.f_blocks - stats.f_bfree) * stats.f_frsize

    async def unmount(self, disk_id: str) -> None:
        mount_point = self.mount_point(disk_id)
        if mount_point.is_mount():
            # -l: a job still holding files open does not keep the image alive forever.
            await _run("umount", "-l", str(mount_point))

    async def remove(self, disk_id: str) -> None:
        await self.unmount(disk_id)
        shutil.rmtree(self._root / disk_id, ignore_errors=True)


async def _run(*argv: str) -> None:
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
    except OSError as e:
        raise DiskImageError(f"{argv[0]} could not run: {e}") from e
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise DiskImageError(f"{argv[0]} failed: {output.decode(errors='replace').strip()}")
