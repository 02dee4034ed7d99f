"""Each cluster's disks sub-application (`/api/v1/disk`, then `/api/v1/clusters/<name>/disk`)
and the service's lifetime, including the background refresh/cleanup task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ..api.cluster_prefix import cluster_prefix
from ..api.keys import PERMISSIONS, SESSIONS, SETTINGS
from ..background import running_in_background
from ..settings import Settings
from . import handlers
from .images import DiskImages
from .keys import DISKS, DISKS_CLUSTER
from .repository import DiskRepository
from .service import DisksService

log = logging.getLogger(__name__)


def mount_disks(api: web.Application, settings: Settings) -> None:
    for cluster in settings.clusters:
        prefix = cluster_prefix(settings, cluster) + "/disk"
        app = web.Application()
        app[DISKS_CLUSTER] = cluster.name
        app.add_routes(handlers.routes)
        api.add_subapp(prefix, app)


async def disks_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    service = DisksService(
        DiskRepository(app[SESSIONS]),
        DiskImages(settings.disks.root or settings.data_dir / "disks"),
        app[PERMISSIONS],
        settings.disks.max_total_bytes_per_user,
    )
    app[DISKS] = service
    await service.remount_all()
    refresh = _refresh_forever(service, settings.disks.refresh_interval_s)
    try:
        async with running_in_background(refresh, "disk-refresh"):
            yield
    finally:
        await service.unmount_unused()


async def _refresh_forever(service: DisksService, interval_s: float) -> None:
    while True:
        try:
            await service.refresh()
        except Exception:  # the next pass retries; state lives in the database
            log.exception("disk refresh failed")
        await asyncio.sleep(interval_s)
