"""Disk rules: creation within the user's size limit, lookups by id or name, permission
checks, and the periodic pass that refreshes `used_bytes` and deletes unused disks."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta

from ..permissions import Permission, PermissionService
from ..permissions.actions import Action
from ..permissions.uris import owned_uri, parse_uri
from .entities import Disk, DiskStatus
from .errors import DiskNotFoundError as DiskNotFoundError
from .errors import DiskOverLimitError
from .images import DiskImageError, DiskImages
from .repository import DiskRepository

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[a-z](?:-?[a-z0-9])*$")
MIN_STORAGE = 1024 * 1024  # ext4 needs room for its own metadata
ID_PREFIX = "disk-"


class DisksService:
    def __init__(
        self,
        repository: DiskRepository,
        images: DiskImages,
        permissions: PermissionService,
        max_total_bytes_per_user: int | None,
        *,
        in_use: Callable[[], Awaitable[Collection[str]]],
    ) -> None:
        self._repository = repository
        self._images = images
        self._permissions = permissions
        self._limit = max_total_bytes_per_user
        # Disks mounted by jobs that have not finished (`jobs/held_disks.py`).
        self._in_use = in_use

    async def create(
        self,
        user: str,
        cluster_name: str,
        org_name: str | None,
        storage: int,
        name: str | None,
        life_span: timedelta | None,
    ) -> Disk:
        if storage < MIN_STORAGE:
            raise ValueError(f"storage must be at least {MIN_STORAGE} bytes")
        if name is not None and not (3 <= len(name) <= 40 and NAME_PATTERN.match(name)):
            raise ValueError(
                f"Invalid disk name {name!r}: 3-40 lowercase letters, digits and inner dashes, "
                "starting with a letter"
            )
        if life_span is not None and life_span <= timedelta(0):
            raise ValueError("life_span must be positive")
        await self._permissions.require(
            user, [Permission(owned_uri("disk", cluster_name, user, org_name), Action.WRITE)]
        )
        if self._limit is not None:
            used = await self._repository.total_storage(cluster_name, user)
            if used + storage > self._limit:
                raise DiskOverLimitError(
                    f"Disks of {user} would take {used + storage} bytes, more than the "
                    f"limit of {self._limit} bytes"
                )
        disk = Disk(
            id=f"{ID_PREFIX}{uuid.uuid4()}",
            cluster_name=cluster_name,
            org_name=org_name,
            owner=user,
            name=name,
            storage=storage,
            status=DiskStatus.PENDING,
            created_at=datetime.now(UTC),
            life_span=life_span,
        )
        await self._repository.insert(disk)
        try:
            await self._images.create(disk.id, storage)
        except (DiskImageError, OSError):
            log.exception("disk %s could not be created", disk.id)
            await self._repository.set_status(disk.id, DiskStatus.BROKEN)
        else:
            await self._repository.set_status(disk.id, DiskStatus.READY)
            await self._repository.set_used_bytes(disk.id, self._images.used_bytes(disk.id) or 0)
        return await self._get(disk.id)

    async def readable(self, user: str, cluster_name: str) -> list[Disk]:
        grants = await self._permissions.grant_set(user, {"disk"})
        return [
            d
            for d in await self._repository.in_cluster(cluster_name)
            if grants.allows(parse_uri(d.uri), Action.READ)
        ]

    async def get(self, user: str, cluster_name: str, id_or_name: str, owner: str | None) -> Disk:
        disk = await self._lookup(cluster_name, id_or_name, owner or user)
        await self._permissions.require(user, [Permission.of(disk.uri, Action.READ)])
        return disk

    async def remove(
        self, user: str, cluster_name: str, id_or_name: str, owner: str | None
    ) -> None:
        disk = await self._lookup(cluster_name, id_or_name, owner or user)
        await self._permissions.require(user, [Permission.of(disk.uri, Action.WRITE)])
        if disk.id in await self._in_use():
            raise ValueError(f"Disk {id_or_name!r} is used by a running job")
        await self._delete(disk)

    async def remove_all_of(self, owner: str, created_before: datetime | None) -> int:
        """Destroys the owner's disks (created before the given time, if any), in use or
        not: the owner's account was removed and its jobs ended. Returns how many."""
        disks = [
            d
            for d in await self._repository.all()
            if d.owner == owner and (created_before is None or d.created_at <= created_before)
        ]
        for disk in disks:
            await self._delete(disk)
        return len(disks)

    async def for_job(self, user: str, uri: str, read_only: bool) -> Disk:
        """The disk a job mounts, checked at submission: read (or write) on it, 403 if not."""
        parsed = parse_uri(uri)
        if parsed.scheme != "disk" or len(parsed.parts) < 3:
            raise ValueError(f"Invalid disk URI {uri!r}")
        cluster_name, *middle, id_or_name = parsed.parts
        disk = await self._lookup(cluster_name, id_or_name, middle[-1] if middle else user)
        action = Action.READ if read_only else Action.WRITE
        await self._permissions.require(user, [Permission.of(disk.uri, action)])
        if disk.status is DiskStatus.BROKEN:
            raise ValueError(f"Disk {uri} is broken")
        return disk

    async def mount_point_for_job(self, disk_id: str) -> str:
        """Where a starting job's container binds the disk from; marks the disk as used."""
        disk = await self._get(disk_id)
        if disk.status is not DiskStatus.READY:
            raise DiskImageError(f"Disk {disk_id} is not ready")
        mount_point = await self._images.ensure_mounted(disk_id)
        await self._repository.touch([disk_id], datetime.now(UTC))
        return str(mount_point)

    async def mark_used(self, disk_ids: Collection[str]) -> None:
        await self._repository.touch(list(disk_ids), datetime.now(UTC))

    async def remount_all(self) -> None:
        """At start-up: loop mounts are gone after a reboot."""
        for disk in await self._repository.all():
            if disk.status is DiskStatus.READY:
                try:
                    await self._images.ensure_mounted(disk.id)
                except DiskImageError:
                    log.exception("disk %s could not be mounted", disk.id)
                    await self._repository.set_status(disk.id, DiskStatus.BROKEN)

    async def unmount_unused(self) -> None:
        """At shutdown: loop devices are a machine-wide resource; a disk a running job still
        binds stays mounted (mounting the image twice would corrupt it)."""
        try:
            in_use = set(await self._in_use())
        except Exception:
            log.warning("could not tell which disks are in use; leaving all mounted")
            return
        for disk in await self._repository.all():
            if disk.id not in in_use:
                await self._images.unmount(disk.id)

    async def refresh(self) -> None:
        """One pass: used bytes of every disk, and deletion of those unused past their
        life span. Disks mounted by unfinished jobs count as in use now."""
        in_use = set(await self._in_use())
        now = datetime.now(UTC)
        await self._repository.touch(sorted(in_use), now)
        for disk in await self._repository.all():
            if disk.id in in_use:
                disk_used = self._images.used_bytes(disk.id)
                if disk_used is not None:
                    await self._repository.set_used_bytes(disk.id, disk_used)
                continue
            if disk.expired(now):
                log.info("deleting disk %s: unused for longer than its life span", disk.id)
                await self._delete(disk)
                continue
            used = self._images.used_bytes(disk.id)
            if used is not None and used != disk.used_bytes:
                await self._repository.set_used_bytes(disk.id, used)

    async def _lookup(self, cluster_name: str, id_or_name: str, owner: str) -> Disk:
        disk = None
        if id_or_name.startswith(ID_PREFIX):
            disk = await self._repository.get(id_or_name)
            if disk is not None and disk.cluster_name != cluster_name:
                disk = None
        if disk is None:
            disk = await self._repository.by_name(cluster_name, owner, id_or_name)
        if disk is None:
            raise DiskNotFoundError(f"Disk {id_or_name!r} not found")
        return disk

    async def _get(self, disk_id: str) -> Disk:
        disk = await self._repository.get(disk_id)
        if disk is None:
            raise DiskNotFoundError(f"Disk {disk_id!r} not found")
        return disk

    async def _delete(self, disk: Disk) -> None:
        await self._images.remove(disk.id)
        await self._repository.delete(disk.id)
