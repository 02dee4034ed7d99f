"""Typed application keys of the monitoring slice (set from `composition.Services`)."""

from __future__ import annotations

from aiohttp import web

from .service import MonitoringService

MONITORING = web.AppKey("monitoring", MonitoringService)
