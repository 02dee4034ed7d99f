"""The disks' background pass: refresh usage, destroy expired and unused disks."""

from __future__ import annotations

import asyncio
import logging

from .service import DisksService

log = logging.getLogger(__name__)


async def refresh_forever(service: DisksService, interval_s: float) -> None:
    while True:
        try:
            await service.refresh()
        except Exception:  # the next pass retries; state lives in the database
            log.exception("disk refresh failed")
        await asyncio.sleep(interval_s)
