"""Typed application keys of the jobs slice (set by `app.py` from `composition.py`)."""

from __future__ import annotations

from aiohttp import web

from ..settings import ClusterSettings
from .encoded import EncodedJobs
from .service import JobsService

# No key holds the orchestrator, the scheduler, the log archive or the job images: handlers
# reach them only through the services (`JobsService`, `monitoring.service.MonitoringService`).
JOBS = web.AppKey("jobs", JobsService)
ENCODED_JOBS = web.AppKey("encoded_jobs", EncodedJobs)  # of the jobs API's listings
# The cluster whose monitoring a jobs sub-application serves (its `monitoring_url`).
MONITORING_CLUSTER = web.AppKey("monitoring_cluster", ClusterSettings)
