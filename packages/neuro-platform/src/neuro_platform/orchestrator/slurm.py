"""The job runtime on a Slurm cluster: each platform job is one Slurm batch job that runs the
job's container with podman on the node Slurm allocates (docs/scale-out.md).

The platform talks to Slurm only through slurmrestd (submit, query, signal, cancel) and to
the runs through the shared filesystem: `<shared>/jobs/<instance>/<job id>/` holds the Slurm
job id (`slurm-id`) and one `run-<slurm id>/` per run (slurm_script says what is in it).
A restarted platform needs nothing else to find its jobs again.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal as signals
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiodocker

from ..settings import DEFAULT_PIDS_LIMIT, SlurmSettings
from . import docker_images, slurm_images, slurm_logs
from .base import Orchestrator, StartProgress
from .docker import API_VERSION
from .docker_images import check_image_name
from .errors import ContainerNotFoundError, ContainerNotRunningError, OrchestratorError
from .interactive import InteractiveSession, StreamOptions
from .naming import check_name_part, container_name
from .reasons import JobReason
from .slurm_interactive import OutputSession, step_output, step_session
from .slurm_networks import SlurmNetworks, admit
from .slurm_rest import SlurmRest
from .slurm_script import batch_script, job_description
from .slurm_state import RunFiles, is_ended, state_of, was_requeued
from .slurm_stats import parse_samples, stats_script
from .spec import ContainerSpec, RegistryAuth
from .state import ContainerPhase, ContainerState, ContainerStats

POLL_S = 0.2


class SlurmOrchestrator(Orchestrator):
    def __init__(
        self,
        *,
        instance: str,
        settings: SlurmSettings,
        pids_limit: int = DEFAULT_PIDS_LIMIT,
        docker_url: str | None = None,
    ) -> None:
        self._instance = check_name_part("instance", instance)
        self._settings = settings
        self._pids_limit = pids_limit
        self._rest = SlurmRest(settings.restd_socket, settings.token_file, settings.user)
        self._jobs_dir = settings.shared_dir / "jobs" / self._instance
        self._node_addresses: dict[str, str | None] = {}
        self._networks = SlurmNetworks(settings.shared_dir, self._instance)
        self._docker_url = docker_url
        self._docker: aiodocker.Docker | None = None

    async def close(self) -> None:
        await self._rest.close()
        if self._docker is not None:
            await self._docker.close()

    # -- images: a node gets the job's image itself (pull, or load from the shared dir) ----

    async def pull(self, image: str, *, auth: RegistryAuth | None = None) -> None:
        check_image_name(image)

    async def commit(self, job_id: str, image: str) -> None:
        """Commits on the job's node and loads the image into the platform host's dockerd
        (slurm_images), where push and remove_image find it as on Docker."""
        check_image_name(image)
        if (await self.state(job_id)).phase is not ContainerPhase.RUNNING:
            raise ContainerNotRunningError(f"Job {job_id} is not running")
        slurm_id = self._slurm_id(job_id)
        await slurm_images.save(
            docker=self._host_docker(),
            srun=self._settings.srun,
            slurm_conf=self._settings.slurm_conf,
            node_env_file=self._settings.node_env_file,
            slurm_id=slurm_id,
            container=self._container(job_id, slurm_id),
            image=image,
            job_dir=self._job_dir(job_id),
        )

    def push(self, image: str, *, auth: RegistryAuth) -> AsyncIterator[dict[str, Any]]:
        return docker_images.push(self._host_docker(), image, auth)

    async def remove_image(self, image: str) -> None:
        await docker_images.remove(self._host_docker(), image)

    def _host_docker(self) -> aiodocker.Docker:
        """The platform host's dockerd, which `job save` pushes through; connected on the
        first save only, so a platform that never saves needs no dockerd."""
        if self._docker is None:
            self._docker = aiodocker.Docker(url=self._docker_url, api_version=API_VERSION)
        return self._docker

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(
        self, spec: ContainerSpec, progress: StartProgress | None = None
    ) -> ContainerState:
        """Submits the job unless it was (idempotent per job id: its directory is the lock),
        then waits until its container runs or has ended: the scheduler takes what start()
        returns as running, as a Docker start is (a job queued by Slurm waits in here, and
        `progress` hears Slurm's reason: Resources, Priority, ...)."""
        await self.submit(spec)
        # slurmrestd has no event for a job's start: poll.
        while (state := await self.state(spec.job_id)).phase is ContainerPhase.PENDING:
            if progress is not None:
                await progress(state)
            await asyncio.sleep(POLL_S)
        return state

    async def submit(self, spec: ContainerSpec) -> None:
        """Queues the job in Slurm without waiting for it to start (idempotent per job id)."""
        check_image_name(spec.image)
        job_dir = self._job_dir(spec.job_id)
        job_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            job_dir.mkdir(mode=0o700)
        except FileExistsError:
            if (job_dir / "slurm-id").exists():
                return
        auth_file = None
        if spec.registry_auth is not None:
            auth_file = job_dir / "registry-auth.json"
            _write_private(auth_file, _auth_json(spec.image, spec.registry_auth))
        script = batch_script(
            spec,
            container=container_name(self._instance, spec.job_id),
            job_dir=job_dir,
            image_dir=self._settings.shared_dir / "images",
            node_env_file=self._settings.node_env_file,
            pids_limit=self._pids_limit,
            auth_file=auth_file,
            # Never the node's own network for a job meant to be on one of its owner's.
            network_slot=self._networks.ensure(spec.network) if spec.network else None,
        )
        description = job_description(
            spec,
            container_name(self._instance, spec.job_id),
            job_dir,
            self._settings.partition,
            self._settings.preemptible_partition,
        )
        slurm_id = await self._rest.submit(script, description)
        _write_private(job_dir / "slurm-id", f"{slurm_id}\n")

    async def state(self, job_id: str) -> ContainerState:
        slurm_id = self._slurm_id(job_id)
        record = await self._rest.job(slurm_id)
        files = RunFiles.read(self._job_dir(job_id) / f"run-{slurm_id}")
        address = files.started_address
        if address is None and files.started_node:  # on its node's network
            address = await self._address(files.started_node)
        if was_requeued(record) and not is_ended(record):
            await self._rest.signal(slurm_id, "SIGKILL")  # see was_requeued
        return state_of(job_id, record, files, address)

    async def wait(self, job_id: str) -> ContainerState:
        # slurmrestd has no completion event to wait on: poll.
        while not (state := await self.state(job_id)).is_finished:  # noqa: ASYNC110
            await asyncio.sleep(POLL_S)
        return state

    async def list_managed(self) -> list[ContainerState]:
        if not self._jobs_dir.is_dir():
            return []
        states = []
        for entry in sorted(self._jobs_dir.iterdir()):
            try:
                states.append(await self.state(entry.name))
            except ContainerNotFoundError:
                continue  # being created, or removed since the listing
        return states

    async def stop(self, job_id: str, *, timeout_s: float = 10.0) -> None:
        state = await self.state(job_id)
        if state.is_finished:
            return
        if state.reason is JobReason.SCHEDULING:
            # Still in Slurm's queue: nothing runs to stop, and Slurm refuses to signal a
            # pending job with anything but SIGKILL, which cancels it.
            await self._rest.signal(self._slurm_id(job_id), "SIGKILL")
            return
        await self._rest.signal(self._slurm_id(job_id), "SIGTERM")
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            if (await self.state(job_id)).is_finished:
                return
            await asyncio.sleep(POLL_S)
        await self._rest.signal(self._slurm_id(job_id), "SIGKILL")

    async def kill(self, job_id: str, *, signal: str = "SIGKILL") -> None:
        name = _signal_name(signal)
        if (await self.state(job_id)).is_finished:
            raise ContainerNotRunningError(f"Job {job_id} is not running")
        # The batch shell forwards signals to the container; SIGKILL ends the Slurm job
        # and its guard removes the container.
        await self._rest.signal(self._slurm_id(job_id), name)

    async def remove(self, job_id: str) -> None:
        job_dir = self._job_dir(job_id)
        try:
            state = await self.state(job_id)
        except ContainerNotFoundError:
            state = None
        if state is not None and not state.is_finished:
            await self._rest.signal(self._slurm_id(job_id), "SIGKILL")
        shutil.rmtree(job_dir, ignore_errors=True)

    # -- observation -------------------------------------------------------------------------

    async def logs(
        self,
        job_id: str,
        *,
        since: datetime | None = None,
        timestamps: bool = False,
        follow: bool = False,
        tail: int | None = None,
    ) -> AsyncIterator[bytes]:
        run_dir = self._job_dir(job_id) / f"run-{self._slurm_id(job_id)}"

        async def finished() -> bool:
            try:
                return (await self.state(job_id)).is_finished
            except ContainerNotFoundError:
                return True

        async for chunk in slurm_logs.read_log(
            run_dir / "container.log",
            since=since,
            timestamps=timestamps,
            follow=follow,
            tail=tail,
            finished=finished,
        ):
            yield chunk

    async def stats(self, job_id: str) -> ContainerStats | None:
        """Two samples of podman's counters on the job's node, through a step in its
        allocation (slurm_stats); None when the container does not run."""
        slurm_id = self._slurm_id(job_id)
        if (await self.state(job_id)).phase is not ContainerPhase.RUNNING:
            return None
        output = await step_output(
            srun=self._settings.srun,
            slurm_conf=self._settings.slurm_conf,
            slurm_id=slurm_id,
            node_env_file=self._settings.node_env_file,
            script=stats_script(),
            args=[self._container(job_id, slurm_id)],
        )
        return None if output is None else parse_samples(output)

    async def ip_address(self, job_id: str) -> str | None:
        return (await self.state(job_id)).address

    # -- networks: an address slot per network, admitted per job (slurm_networks) ----------

    async def ensure_network(self, name: str, labels: Mapping[str, str]) -> None:
        await asyncio.to_thread(self._networks.ensure, name)

    async def remove_network(self, name: str) -> bool:
        # Called once none of its jobs runs (jobs/job_networks.py): its slot is free again.
        await asyncio.to_thread(self._networks.remove, name)
        return True

    async def list_networks(self) -> list[str]:
        return await asyncio.to_thread(self._networks.list)

    async def connect(self, job_id: str, network: str) -> str | None:
        """The job admits the network's jobs from now on (at its one address)."""
        await self._admit(job_id, network, admitted=True)
        return await self.ip_address(job_id)

    async def disconnect(self, job_id: str, network: str) -> None:
        try:
            await self._admit(job_id, network, admitted=False)
        except ContainerNotFoundError:
            return  # the job is gone: nothing admits anything

    async def _admit(self, job_id: str, network: str, *, admitted: bool) -> None:
        slot = await asyncio.to_thread(self._networks.slot, network)
        if slot is None:
            if admitted:
                raise OrchestratorError(f"No network {network}")
            return
        self._slurm_id(job_id)  # raises ContainerNotFoundError for a job without one
        await asyncio.to_thread(admit, self._job_dir(job_id) / "readers", slot, admitted=admitted)

    # -- interaction -------------------------------------------------------------------------

    def exec(
        self, job_id: str, command: Sequence[str], options: StreamOptions
    ) -> AbstractAsyncContextManager[InteractiveSession]:
        flags = [*(["-i"] if options.stdin else []), *(["-t"] if options.tty else [])]
        return self._step(job_id, ["exec", *flags], list(command), options)

    def attach(
        self, job_id: str, options: StreamOptions
    ) -> AbstractAsyncContextManager[InteractiveSession]:
        if not options.stdin and not options.tty:
            return self._follow(job_id, options)
        flags = ["--sig-proxy=false", *([] if options.stdin else ["--no-stdin"])]
        # podman attach's own exit code is not the job's once the batch script has removed
        # the container: the job's outcome is.
        return self._step(job_id, ["attach", *flags], [], options, self._outcome(job_id))

    @asynccontextmanager
    async def _follow(self, job_id: str, options: StreamOptions) -> AsyncIterator[OutputSession]:
        # Compared with the node's log stamps: the nodes' clocks must agree with this host's
        # (NTP), as Slurm itself requires for munge credentials.
        since = datetime.now(UTC)
        state = await self.state(job_id)
        if state.phase is not ContainerPhase.RUNNING:
            raise ContainerNotRunningError(f"Job {job_id} is not running")
        log = self._job_dir(job_id) / f"run-{self._slurm_id(job_id)}" / "container.log"

        async def finished() -> bool:
            try:
                return (await self.state(job_id)).is_finished
            except ContainerNotFoundError:
                return True

        output = slurm_logs.follow_streams(log, since=since, finished=finished)
        try:
            yield OutputSession(output, self._outcome(job_id), options)
        finally:
            await output.aclose()

    def _outcome(self, job_id: str) -> Callable[[], Awaitable[int | None]]:
        """The job's exit code once it has ended; None while it runs (a detached attach)."""

        async def exit_code() -> int | None:
            try:
                state = await self.state(job_id)
            except ContainerNotFoundError:
                return None  # collected since: the scheduler knows how it ended
            return state.exit_code if state.is_finished else None

        return exit_code

    @asynccontextmanager
    async def _step(
        self,
        job_id: str,
        before: list[str],
        after: list[str],
        options: StreamOptions,
        outcome: Callable[[], Awaitable[int | None]] | None = None,
    ) -> AsyncIterator[InteractiveSession]:
        state = await self.state(job_id)
        if state.phase is not ContainerPhase.RUNNING:
            raise ContainerNotRunningError(f"Job {job_id} is not running")
        slurm_id = self._slurm_id(job_id)
        container = self._container(job_id, slurm_id)
        async with step_session(
            srun=self._settings.srun,
            slurm_conf=self._settings.slurm_conf,
            slurm_id=slurm_id,
            run_dir=self._job_dir(job_id) / f"run-{slurm_id}",
            node_env_file=self._settings.node_env_file,
            podman_args=[*before, "--", container, *after],
            options=options,
            outcome=outcome,
        ) as session:
            yield session

    # -- helpers -----------------------------------------------------------------------------

    def _job_dir(self, job_id: str) -> Path:
        return self._jobs_dir / check_name_part("job id", job_id)

    def _container(self, job_id: str, slurm_id: int) -> str:
        """The name of the job's container in run `slurm_id` (slurm_script's `$name`)."""
        return f"{container_name(self._instance, job_id)}-{slurm_id}"

    def _slurm_id(self, job_id: str) -> int:
        try:
            return int((self._job_dir(job_id) / "slurm-id").read_text())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            raise ContainerNotFoundError(f"No container for job {job_id}") from None

    async def _address(self, node: str) -> str | None:
        if node not in self._node_addresses:
            self._node_addresses[node] = await self._rest.node_address(node)
        return self._node_addresses[node]


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)


def _auth_json(image: str, auth: RegistryAuth) -> str:
    registry = image.split("/", 1)[0]
    token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
    return json.dumps({"auths": {registry: {"auth": token}}})


def _signal_name(signal: str) -> str:
    try:
        if signal.isdigit():
            return signals.Signals(int(signal)).name
        name = signal.upper()
        return signals.Signals[name if name.startswith("SIG") else f"SIG{name}"].name
    except (KeyError, ValueError):
        raise ValueError(f"Unknown signal {signal!r}") from None
