"""The composition root: every service of the server, built once, in dependency order.

`build_services(settings)` is the one place where services are constructed and handed to each
other; nothing is patched after construction. It also starts the background loops (disk
refresh, job scheduler, removal sweeper, private registry and its garbage collection) in
that order and, on leaving, stops them in reverse: the scheduler stops before the engine
connection closes, the disks are unmounted after every job loop has stopped, and the database
goes last. `app.py` stores what handlers need under the slices' application keys.

Only the jobs services talk to the container engine, and connecting to it needs no running
dockerd: a platform without one still serves everything but jobs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import aiohttp

from .admin_api.accounts import Accounts
from .admin_api.repository import AdminRepository
from .admin_api.service import AdminService
from .auth.account_changes import AccountChanges, account_changes_path, announce_account_change
from .auth.login_throttle import LoginThrottle
from .background import running_in_background
from .buckets.service import BucketsService
from .buckets.setup import open_buckets
from .core import Core, open_core
from .disks.images import DiskImages
from .disks.refresh import refresh_forever
from .disks.repository import DiskRepository
from .disks.service import DisksService
from .jobs.capacity import ClusterNodes
from .jobs.held_disks import disks_held_by_jobs
from .jobs.job_images import JobImages
from .jobs.job_mounts import JobMounts
from .jobs.job_networks import JobNetworks
from .jobs.job_tokens import JobScopedAuthenticator, JobTokenIssuer
from .jobs.log_archive import LogArchive
from .jobs.log_archiver import LogArchivers
from .jobs.mount_staging import MountStaging
from .jobs.queries import JobNotFoundError
from .jobs.quota import JobQuotas
from .jobs.repository import JobRepository
from .jobs.scheduler import Scheduler
from .jobs.service import JobsService
from .jobs.volume_access import VolumeAccess
from .leadership import is_postgres, lead_forever
from .monitoring.service import MonitoringService
from .monitoring.usage_history import UsageHistory
from .orchestrator import DockerOrchestrator, Orchestrator, SlurmOrchestrator
from .orchestrator.per_cluster import ClusterOf, PerClusterOrchestrator
from .permissions import PermissionService, SharingService
from .permissions.cache import PRINCIPAL_CHANGES
from .registry.gc import collect_loop, registry_files
from .registry.private import PrivateRegistry, connector
from .removals.sweeper import RemovalSweeper
from .secrets.cipher import SecretCipher
from .secrets.repository import SecretRepository
from .secrets.service import SecretsService
from .service_accounts.repository import ServiceAccountRepository
from .service_accounts.service import ServiceAccountsService
from .settings import Settings
from .storage.roots import storage_root


@dataclass(frozen=True)
class Services:
    settings: Settings
    core: Core
    # Knows the jobs (a job token ends with its job) and the service accounts (a role's
    # token ends with its account).
    authenticator: JobScopedAuthenticator
    login_throttle: LoginThrottle
    permissions: PermissionService
    sharing: SharingService
    service_accounts: ServiceAccountsService
    admin: AdminService
    secrets: SecretsService
    buckets: BucketsService
    disks: DisksService
    orchestrator: Orchestrator
    log_archive: LogArchive
    job_tokens: JobTokenIssuer
    job_images: JobImages
    scheduler: Scheduler
    jobs: JobsService
    # The only way handlers reach the engine: logs, usage, exec, port forwarding, save.
    monitoring: MonitoringService
    usage_history: UsageHistory
    removals: RemovalSweeper
    private_registry: PrivateRegistry
    # Talks to the private registry only (its unix socket); bodies pass through undecoded.
    registry_upstream: aiohttp.ClientSession


@asynccontextmanager
async def build_services(settings: Settings) -> AsyncIterator[Services]:
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(open_core(settings))
        sessions = core.sessions
        clusters = tuple(c.name for c in settings.clusters)
        # Other processes on the same PostgreSQL change jobs too: no in-memory copies there.
        job_repository = JobRepository(sessions, cached=not is_postgres(settings.database_url))
        service_account_repository = ServiceAccountRepository(sessions)
        # Each reader of the account-changes file keeps its own idea of what it has seen.
        changes_file = account_changes_path(settings.data_dir)
        if is_postgres(settings.database_url):
            # Other servers on the database cache principals too: each change of ours empties
            # their caches on their next request, as `admin user remove` does.
            announce = functools.partial(announce_account_change, changes_file)
            PRINCIPAL_CHANGES.on_commit.append(announce)
            stack.callback(PRINCIPAL_CHANGES.on_commit.remove, announce)
        authenticator = JobScopedAuthenticator(
            core.codec,
            core.users,
            job_repository,
            role_tokens=service_account_repository,
            account_changes=AccountChanges(changes_file),
        )
        permissions = PermissionService(
            core.permission_repository, clusters=list(clusters), orgs=settings.all_orgs
        )
        service_accounts = ServiceAccountsService(
            service_account_repository,
            core.permission_repository,
            core.codec,
            clusters,
            settings.public_url / "api" / "v1",
        )
        secrets = SecretsService(
            SecretRepository(sessions), SecretCipher(settings.data_dir / "secrets-key"), permissions
        )
        buckets = await stack.enter_async_context(
            open_buckets(
                settings, sessions, permissions, SecretCipher(settings.data_dir / "secrets-key")
            )
        )

        disks = DisksService(
            DiskRepository(sessions),
            DiskImages(settings.disks.root or settings.data_dir / "disks"),
            permissions,
            settings.disks.max_total_bytes_per_user,
            # Disk GC and `disk rm` must leave alone the disks that unfinished jobs hold.
            in_use=functools.partial(disks_held_by_jobs, job_repository),
        )
        await disks.remount_all()
        stack.push_async_callback(disks.unmount_unused)

        orchestrator = await stack.enter_async_context(
            make_orchestrator(settings, functools.partial(cluster_of, job_repository))
        )
        log_archive = LogArchive(settings.log_archive_dir)
        networks = JobNetworks(orchestrator, settings.data_dir / "job-hosts", permissions)
        stack.callback(networks.close)
        job_tokens = JobTokenIssuer(core.codec, settings.jobs_api_url / "api" / "v1")
        job_images = JobImages(settings, permissions, core.users, job_tokens)
        admin_repository = AdminRepository(sessions)
        accounts = Accounts(admin_repository, settings)
        quotas = JobQuotas(accounts, job_repository, settings)
        admin = AdminService(admin_repository, accounts, core.users, settings, quotas.spent)
        scheduler = Scheduler(
            repository=job_repository,
            orchestrator=orchestrator,
            archivers=LogArchivers(log_archive, orchestrator, settings.jobs.log_cap_bytes),
            tokens=job_tokens,
            nodes=ClusterNodes.from_settings(settings),
            quotas=quotas,
            poll_interval_s=settings.jobs.poll_interval_s,
            life_span_minute_s=settings.jobs.life_span_minute_s,
            networks=networks,
            mounts=JobMounts(
                secrets,
                disks,
                settings.data_dir / "job-secrets",
                MountStaging(settings.data_dir / "job-mounts"),
                storage_root_of=lambda cluster: storage_root(settings, cluster),
                buckets=buckets,
            ),
            images=job_images,
        )
        jobs = JobsService(
            job_repository,
            permissions,
            settings,
            scheduler.nodes,
            scheduler.wake,
            VolumeAccess(job_repository, secrets, disks, buckets),
            job_images,
            quotas,
        )

        # The web console's usage charts: the jobs whose chart is open, sampled while it is.
        usage_history = UsageHistory(orchestrator.stats)
        await stack.enter_async_context(running_in_background(usage_history.run(), "job-usage"))

        removals = RemovalSweeper(
            sessions, core.users, jobs, disks, AccountChanges(changes_file), buckets
        )
        # Before serving: a removal made while the server was down must not leave the removed
        # account's jobs running (their tokens act as the name) for a new account of the name.
        await removals.sweep()

        # Every process serves /v2/ through a registry of its own on the shared storage,
        # named by the process where several share the data dir (registry/private.py).
        files = registry_files(
            settings, os.getpid() if is_postgres(settings.database_url) else None
        )
        private_registry = PrivateRegistry(files, settings.registry.binary)
        # Started before serving, so the first push finds it; then restarted whenever it ends.
        await private_registry.start()
        await stack.enter_async_context(
            running_in_background(private_registry.supervise(), "private registry")
        )
        # No total timeout: a layer may take long; a dead registry is noticed by the connection.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
        registry_upstream = await stack.enter_async_context(
            aiohttp.ClientSession(
                connector=connector(private_registry.files),
                auto_decompress=False,
                timeout=timeout,
            )
        )
        duties = functools.partial(
            leader_duties, settings, disks, scheduler, removals, private_registry
        )
        if is_postgres(settings.database_url):
            # Several processes may share the database: the one elected runs the duties.
            await stack.enter_async_context(
                running_in_background(lead_forever(settings.database_url, duties), "leadership")
            )
        else:
            await stack.enter_async_context(duties())

        yield Services(
            settings=settings,
            core=core,
            authenticator=authenticator,
            login_throttle=LoginThrottle(settings.auth.login_failures),
            permissions=permissions,
            sharing=SharingService(
                permissions, core.permission_repository, after_revoke=[buckets.end_lost_access]
            ),
            service_accounts=service_accounts,
            admin=admin,
            secrets=secrets,
            buckets=buckets,
            disks=disks,
            orchestrator=orchestrator,
            log_archive=log_archive,
            job_tokens=job_tokens,
            job_images=job_images,
            scheduler=scheduler,
            jobs=jobs,
            monitoring=MonitoringService(jobs, orchestrator, scheduler, log_archive, job_images),
            usage_history=usage_history,
            removals=removals,
            private_registry=private_registry,
            registry_upstream=registry_upstream,
        )


@asynccontextmanager
async def leader_duties(
    settings: Settings,
    disks: DisksService,
    scheduler: Scheduler,
    removals: RemovalSweeper,
    private_registry: PrivateRegistry,
) -> AsyncIterator[None]:
    """The loops that must run in one process of those sharing a database (leadership.py),
    for as long as it leads; left, they stop in reverse order."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(
            running_in_background(
                refresh_forever(disks, settings.disks.refresh_interval_s), "disk-refresh"
            )
        )
        # Closed after its loop is cancelled: starts and collections in flight finish.
        stack.push_async_callback(scheduler.close)
        await stack.enter_async_context(running_in_background(scheduler.run(), "job-scheduler"))
        await stack.enter_async_context(running_in_background(removals.run(), "user-removals"))
        # Keeps out of the registries of every process (registry/gc_gate.py).
        await stack.enter_async_context(
            running_in_background(
                collect_loop(private_registry, settings.registry.gc_interval_s), "registry gc"
            )
        )
        yield


def make_orchestrator(settings: Settings, cluster_of: ClusterOf | None = None) -> Orchestrator:
    """The job runtime: each cluster's jobs run on its `engine` (the local dockerd or the
    `[slurm]` cluster); with clusters on both, `cluster_of` tells which job is whose."""
    engines: dict[str, Orchestrator] = {}
    for cluster in settings.clusters:
        if cluster.engine not in engines:
            engines[cluster.engine] = _engine(settings, cluster.engine)
    if len(engines) == 1:
        return next(iter(engines.values()))
    if cluster_of is None:
        raise ValueError("clusters on several engines need cluster_of")
    return PerClusterOrchestrator(
        {c.name: engines[c.engine] for c in settings.clusters},
        cluster_of,
        default=settings.clusters[0].name,
    )


def _engine(settings: Settings, engine: str) -> Orchestrator:
    if engine == "slurm":
        assert settings.slurm is not None  # settings.py requires the table for this engine
        return SlurmOrchestrator(
            instance=settings.orchestrator_instance,
            settings=settings.slurm,
            pids_limit=settings.jobs.pids_limit,
            docker_url=settings.jobs.docker_url,  # `job save` pushes through the host's dockerd
        )
    return DockerOrchestrator(
        instance=settings.orchestrator_instance,
        docker_url=settings.jobs.docker_url,
        pids_limit=settings.jobs.pids_limit,
    )


async def cluster_of(repository: JobRepository, job_id: str) -> str | None:
    """The cluster a job runs on, which picks its engine (orchestrator/per_cluster.py)."""
    try:
        return (await repository.get(job_id)).cluster_name
    except JobNotFoundError:
        return None
