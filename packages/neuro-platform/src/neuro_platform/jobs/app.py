"""The jobs sub-application (`/api/v1/jobs`: jobs API and monitoring) and its services.

`jobs_context` runs after the core services (sessions, permissions) exist: it connects to
the orchestrator and runs the scheduler for the app's life. Nothing here needs the engine to
start, so a platform without dockerd still serves everything but jobs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ..api.cluster_prefix import cluster_prefix
from ..api.keys import AUTHENTICATOR, PERMISSIONS, SESSIONS, SETTINGS, USERS
from ..auth.tokens import TokenCodec, load_or_create_signing_key
from ..background import running_in_background
from ..disks.keys import DISKS
from ..monitoring import handlers as monitoring_handlers
from ..monitoring import interactive, port_forward, save
from ..monitoring.keys import MONITORING
from ..monitoring.service import MonitoringService
from ..orchestrator import DockerOrchestrator
from ..secrets.keys import SECRETS
from ..settings import ClusterSettings, Settings
from ..storage.app import storage_root
from . import handlers
from .capacity import NodeResources
from .job_images import JobImages
from .job_mounts import JobMounts
from .job_networks import JobNetworks
from .job_tokens import JobScopedAuthenticator, JobTokenIssuer
from .keys import JOBS, MONITORING_CLUSTER
from .log_archive import LogArchive
from .log_archiver import LogArchivers
from .mount_staging import MountStaging
from .repository import JobRepository
from .scheduler import Scheduler
from .service import JobsService
from .volume_access import VolumeAccess

log = logging.getLogger(__name__)


def mount_jobs(api: web.Application, settings: Settings) -> None:
    """The jobs API at `/jobs`, and each cluster's monitoring (its `monitoring_url`)."""
    for cluster in settings.clusters:
        prefix = cluster_prefix(settings, cluster) + "/jobs"
        # The first cluster's monitoring shares `/jobs` with the jobs API, as `/config` says.
        with_jobs_api = prefix == "/jobs"
        api.add_subapp(prefix, create_jobs_app(cluster, with_jobs_api=with_jobs_api))


def create_jobs_app(cluster: ClusterSettings, *, with_jobs_api: bool = True) -> web.Application:
    app = web.Application()
    app[MONITORING_CLUSTER] = cluster
    # Fixed paths first, so `capacity` is not taken for a job id.
    app.add_routes(monitoring_handlers.fixed_routes)
    if with_jobs_api:
        app.add_routes(handlers.routes)
    app.add_routes(monitoring_handlers.routes)
    app.add_routes(interactive.routes)
    app.add_routes(port_forward.routes)
    app.add_routes(save.routes)
    return app


async def jobs_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    repository = JobRepository(app[SESSIONS])
    signing_key = load_or_create_signing_key(settings.signing_key_path)
    # Job tokens stop working when their job ends: the authenticator must know the jobs.
    app[AUTHENTICATOR] = JobScopedAuthenticator(
        TokenCodec(signing_key),
        app[USERS],
        repository,
        app[AUTHENTICATOR].role_tokens,
        app[AUTHENTICATOR].account_changes,
    )
    async with DockerOrchestrator(
        instance=settings.orchestrator_instance,
        docker_url=settings.jobs.docker_url,
        pids_limit=settings.jobs.pids_limit,
    ) as orchestrator:
        archive = LogArchive(settings.log_archive_dir)
        networks = JobNetworks(orchestrator, settings.data_dir / "job-hosts", app[PERMISSIONS])
        tokens = JobTokenIssuer(signing_key, settings.jobs_api_url / "api" / "v1")
        images = JobImages(settings, app[PERMISSIONS], app[USERS], tokens)
        scheduler = Scheduler(
            repository=repository,
            orchestrator=orchestrator,
            archivers=LogArchivers(archive, orchestrator, settings.jobs.log_cap_bytes),
            tokens=tokens,
            node=NodeResources.from_settings(settings.node),
            quota=settings.jobs.max_running_jobs_per_user,
            poll_interval_s=settings.jobs.poll_interval_s,
            life_span_minute_s=settings.jobs.life_span_minute_s,
            networks=networks,
            mounts=JobMounts(
                app[SECRETS],
                app[DISKS],
                settings.data_dir / "job-secrets",
                MountStaging(settings.data_dir / "job-mounts"),
                storage_root_of=lambda cluster: storage_root(settings, cluster),
            ),
            images=images,
        )
        volume_access = VolumeAccess(repository, app[SECRETS], app[DISKS])
        # Disk GC and `disk rm` must leave alone the disks that unfinished jobs hold.
        app[DISKS].in_use = volume_access.in_use
        app[JOBS] = JobsService(
            repository,
            app[PERMISSIONS],
            settings,
            scheduler.node,
            scheduler.wake,
            volume_access,
            images,
        )
        app[MONITORING] = MonitoringService(app[JOBS], orchestrator, scheduler, archive, images)
        try:
            async with running_in_background(scheduler.run(), "job-scheduler"):
                yield
        finally:
            await scheduler.close()
            networks.close()
