"""Typed application keys of the monitoring slice (set by `jobs.app.jobs_context`)."""

from __future__ import annotations

from aiohttp import web

from .service import MonitoringService

MONITORING = web.AppKey("monitoring", MonitoringService)
