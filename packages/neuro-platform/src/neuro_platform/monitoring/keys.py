"""Typed application keys of the monitoring slice (set from `composition.Services`)."""

from __future__ import annotations

from aiohttp import web

from .service import MonitoringService
from .usage_history import UsageHistory

MONITORING = web.AppKey("monitoring", MonitoringService)
USAGE_HISTORY = web.AppKey("usage_history", UsageHistory)
