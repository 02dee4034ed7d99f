"""Typed application keys of the jobs slice (set by `app.py` from `composition.py`)."""

from __future__ import annotations

from aiohttp import web

from ..orchestrator import Orchestrator
from ..settings import ClusterSettings
from .job_images import JobImages
from .log_archive import LogArchive
from .scheduler import Scheduler
from .service import JobsService

JOBS = web.AppKey("jobs", JobsService)
SCHEDULER = web.AppKey("scheduler", Scheduler)
ORCHESTRATOR = web.AppKey("orchestrator", Orchestrator)
LOG_ARCHIVE = web.AppKey("log_archive", LogArchive)
# The cluster whose monitoring a jobs sub-application serves (its `monitoring_url`).
MONITORING_CLUSTER = web.AppKey("monitoring_cluster", ClusterSettings)
JOB_IMAGES = web.AppKey("job_images", JobImages)
