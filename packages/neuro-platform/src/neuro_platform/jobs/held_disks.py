"""The disks that jobs hold, which disk GC and `disk rm` must leave alone (`disks/service.py`)."""

from __future__ import annotations

from collections.abc import Collection

from ..disks.service import ID_PREFIX
from .repository import JobRepository


async def disks_held_by_jobs(repository: JobRepository) -> Collection[str]:
    """Disks of jobs that are not finished (or whose container is still there). Only jobs
    whose spec names a disk id are decoded."""
    return {
        v.disk_id
        for spec in await repository.queued_specs(containing=ID_PREFIX)
        for v in spec.container.disk_volumes
    }
