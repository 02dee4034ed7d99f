"""Disk rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .entities import Disk, DiskStatus
from .errors import DiskNameTakenError
from .models import DiskRow


class DiskRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def insert(self, disk: Disk) -> None:
        try:
            async with self._sessions.begin() as session:
                session.add(
                    DiskRow(
                        id=disk.id,
                        cluster_name=disk.cluster_name,
                        org_name=disk.org_name or "",
                        owner=disk.owner,
                        name=disk.name,
                        storage=disk.storage,
                        used_bytes=disk.used_bytes,
                        status=str(disk.status),
                        created_at=disk.created_at,
                        last_usage=disk.last_usage,
                        life_span_s=None
                        if disk.life_span is None
                        else disk.life_span.total_seconds(),
                    )
                )
        except IntegrityError as e:
            raise DiskNameTakenError(f"Disk named {disk.name!r} already exists") from e

    async def get(self, disk_id: str) -> Disk | None:
        async with self._sessions() as session:
            row = await session.get(DiskRow, disk_id)
            return None if row is None else _disk(row)

    async def by_name(self, cluster_name: str, owner: str, name: str) -> Disk | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(DiskRow).where(
                    DiskRow.cluster_name == cluster_name,
                    DiskRow.owner == owner,
                    DiskRow.name == name,
                )
            )
            return None if row is None else _disk(row)

    async def in_cluster(self, cluster_name: str) -> list[Disk]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DiskRow)
                .where(DiskRow.cluster_name == cluster_name)
                .order_by(DiskRow.created_at)
            )
            return [_disk(r) for r in rows]

    async def all(self) -> list[Disk]:
        async with self._sessions() as session:
            return [_disk(r) for r in await session.scalars(select(DiskRow))]

    async def total_storage(self, cluster_name: str, owner: str) -> int:
        async with self._sessions() as session:
            total = await session.scalar(
                select(func.coalesce(func.sum(DiskRow.storage), 0)).where(
                    DiskRow.cluster_name == cluster_name, DiskRow.owner == owner
                )
            )
            return int(total or 0)

    async def set_status(self, disk_id: str, status: DiskStatus) -> None:
        await self._update(disk_id, status=str(status))

    async def set_used_bytes(self, disk_id: str, used_bytes: int) -> None:
        await self._update(disk_id, used_bytes=used_bytes)

    async def touch(self, disk_ids: Sequence[str], when: datetime) -> None:
        if disk_ids:
            async with self._sessions.begin() as session:
                await session.execute(
                    update(DiskRow).where(DiskRow.id.in_(disk_ids)).values(last_usage=when)
                )

    async def delete(self, disk_id: str) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(DiskRow).where(DiskRow.id == disk_id).returning(DiskRow.id)
            )
            return result.first() is not None

    async def _update(self, disk_id: str, **values: object) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(DiskRow).where(DiskRow.id == disk_id).values(**values))


def _disk(row: DiskRow) -> Disk:
    return Disk(
        id=row.id,
        cluster_name=row.cluster_name,
        org_name=row.org_name or None,
        owner=row.owner,
        name=row.name,
        storage=row.storage,
        status=DiskStatus(row.status),
        created_at=row.created_at,
        used_bytes=row.used_bytes,
        last_usage=row.last_usage,
        life_span=None if row.life_span_s is None else timedelta(seconds=row.life_span_s),
    )
