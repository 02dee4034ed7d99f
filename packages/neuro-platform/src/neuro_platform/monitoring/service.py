"""The monitoring service: what `monitoring_url` (docs/protocol.md §4) does to a job's
container, with the permission checks that guard it.

Handlers parse the request and render the answer; every call to the orchestrator on a
client's behalf, and every check of who may make it, is here. Reading a job's logs, usage
and the node's capacity needs `read` on the job (capacity: only a login); signals, exec,
attach, port forwarding and `job save` need `write`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from ..jobs.entities import Job, JobStatus
from ..jobs.job_images import REGISTRY_USER, JobImages, SaveTarget
from ..jobs.log_archive import LogArchive
from ..jobs.scheduler import Scheduler
from ..jobs.service import JobsService
from ..orchestrator import (
    ContainerNotFoundError,
    ContainerNotRunningError,
    Orchestrator,
    OrchestratorError,
    Output,
    RegistryAuth,
)

# The orchestrator's value types that cross this service's interface: handlers name them
# through this module, never through the orchestrator package.
from ..orchestrator import ContainerStats as ContainerStats
from ..orchestrator import InteractiveSession as InteractiveSession
from ..orchestrator import StreamOptions as StreamOptions
from ..permissions.actions import Action
from ..settings import ClusterSettings
from .errors import PortUnreachableError
from .logs import LogOptions, job_logs

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0


class MonitoringService:
    def __init__(
        self,
        jobs: JobsService,
        orchestrator: Orchestrator,
        scheduler: Scheduler,
        archive: LogArchive,
        images: JobImages,
    ) -> None:
        self._jobs = jobs
        self._orchestrator = orchestrator
        self._scheduler = scheduler
        self._archive = archive
        self._images = images

    async def capacity(self, cluster: ClusterSettings) -> dict[str, int]:
        """How many more jobs of each of the cluster's presets fit on its node now."""
        free = await self._scheduler.free_resources(cluster.name)
        return {p.name: free.how_many(p) for p in cluster.presets}

    async def job(self, user: str, id_or_name: str, action: Action) -> Job:
        """The job, which `user` may `action` (404 when they may not even see it)."""
        return await self._jobs.get(user, id_or_name, action)

    async def running_job(self, user: str, id_or_name: str) -> Job:
        """The job, which `user` may write to (exec, attach and port-forward all act on it),
        and which runs now: otherwise 404 rather than a socket that waits."""
        job = await self.job(user, id_or_name, Action.WRITE)
        if job.status is not JobStatus.RUNNING:
            raise ContainerNotRunningError(f"Job {job.id} is not running (it is {job.status})")
        return job

    def logs(self, job: Job, options: LogOptions) -> AsyncIterator[bytes]:
        """The job's whole output (docs/protocol.md §4.3); `job` comes from `job(..., READ)`."""
        return job_logs(job, options, jobs=self._jobs, archive=self._archive)

    async def usage(self, job: Job) -> tuple[Job, ContainerStats | None]:
        """The job as it is now and a usage sample; None once it no longer runs."""
        job = await self._jobs.current(job)
        if job.status is not JobStatus.RUNNING:
            return job, None
        try:
            return job, await self._orchestrator.stats(job.id)
        except ContainerNotFoundError:
            return job, None

    async def signal(self, user: str, id_or_name: str, signal: str) -> None:
        job = await self.job(user, id_or_name, Action.WRITE)
        await self._orchestrator.kill(job.id, signal=signal)

    def exec(
        self, job: Job, command: Sequence[str], options: StreamOptions
    ) -> AbstractAsyncContextManager[InteractiveSession]:
        """A process in the job's container; `job` comes from `running_job`."""
        return self._orchestrator.exec(job.id, command, options)

    @asynccontextmanager
    async def attach(self, job: Job, options: StreamOptions) -> AsyncIterator[InteractiveSession]:
        """The job's own streams; `job` comes from `running_job`."""
        async with self._orchestrator.attach(job.id, options) as session:
            yield _RecordedExit(session, job, self._jobs)

    async def connect(
        self, job: Job, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TCP connection to `port` inside the job's network (docs/protocol.md §4.2), made
        before the websocket is accepted, so a closed port is a 400 the client can report."""
        address = await self._orchestrator.ip_address(job.id)
        if address is None:
            raise ContainerNotRunningError(f"Job {job.id} is not running")
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                return await asyncio.open_connection(address, port)
        except (OSError, TimeoutError) as error:
            raise PortUnreachableError(port, error) from error

    async def address(self, job: Job) -> str | None:
        """Where the proxy reaches the job's HTTP port; None when it is not running."""
        return await self._orchestrator.ip_address(job.id)

    async def save_target(self, user: str, job: Job, body: object) -> SaveTarget:
        """Everything `job save` can refuse, checked before the stream starts (`job` comes
        from `job(..., WRITE)`): 403 without write on the image, 400 for an image outside
        the job's cluster's registry, 404 for a job that is not running."""
        target = await self._images.save_target(user, job, body)
        if job.status is not JobStatus.RUNNING:
            raise ContainerNotRunningError(
                f"Job {job.id} is not running (it is {job.status}): only a running job can be saved"
            )
        return target

    async def save(
        self, job: Job, target: SaveTarget, token: str
    ) -> AsyncGenerator[dict[str, Any]]:
        """The progress of committing the job's container as `target` and pushing it with
        `token`: the engine's objects, ending with an error object when it fails. One save of
        an image at a time; the local image is removed at the end, or when the caller closes
        the stream early (use `contextlib.aclosing`)."""
        committed = False
        async with self._images.saving(target.image):
            try:
                details = {"container": job.id, "image": target.image}
                yield {"status": "CommitStarted", "details": details}
                await self._orchestrator.commit(job.id, target.image)
                committed = True
                yield {"status": "CommitFinished"}
                auth = RegistryAuth(REGISTRY_USER, token)
                async for progress in self._orchestrator.push(target.image, auth=auth):
                    yield progress
            except OrchestratorError as error:
                yield {"error": error.message, "errorDetail": {"message": error.message}}
            finally:
                if committed:
                    try:
                        await self._orchestrator.remove_image(target.image)
                    except OrchestratorError:
                        log.exception("removing the local image %s after a save", target.image)


class _RecordedExit(InteractiveSession):
    """An attach whose exit code falls back on the job's record: the scheduler may collect a
    job (on Slurm its container and files go) between the end of its output and the engine's
    last look at it, and the client must still learn how the job ended."""

    def __init__(self, session: InteractiveSession, job: Job, jobs: JobsService) -> None:
        self._session = session
        self._job = job
        self._jobs = jobs

    async def read(self) -> Output | None:
        return await self._session.read()

    async def write(self, data: bytes) -> None:
        await self._session.write(data)

    async def close_stdin(self) -> None:
        await self._session.close_stdin()

    async def resize(self, height: int, width: int) -> None:
        await self._session.resize(height, width)

    async def exit_code(self) -> int | None:
        code = await self._session.exit_code()
        if code is not None:
            return code
        job = await self._jobs.current(self._job)
        return job.exit_code if job.is_finished else None
