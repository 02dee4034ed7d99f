"""Typed application keys of the disks slice."""

from __future__ import annotations

from aiohttp import web

from .service import DisksService

DISKS = web.AppKey("disks", DisksService)
DISKS_CLUSTER = web.AppKey("disks_cluster", str)
