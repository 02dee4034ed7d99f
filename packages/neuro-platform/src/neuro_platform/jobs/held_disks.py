"""The disks that jobs hold, which disk GC and `disk rm` must leave alone (`disks/service.py`)."""

from __future__ import annotations

from collections.abc import Collection

from .repository import JobRepository


async def disks_held_by_jobs(repository: JobRepository) -> Collection[str]:
    """Disks of jobs that are not finished (or whose container is still there)."""
    return {
        v.disk_id
        for job in await repository.scheduling_queue()
        for v in job.spec.container.disk_volumes
    }
