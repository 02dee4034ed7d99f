"""The job runtime on a local Docker Engine (API 1.41, Debian's docker.io 20.10), via aiodocker."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import signal as signals
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerError

from ..settings import DEFAULT_PIDS_LIMIT
from . import docker_images, docker_logs
from .base import Orchestrator, StartProgress
from .docker_config import create_config
from .docker_firewall import BridgeIsolation
from .docker_interactive import attach_session, exec_session
from .docker_networks import DockerNetworks
from .docker_state import state_from_inspect, stats_from_sample
from .errors import (
    ContainerCannotRunError,
    ContainerNotFoundError,
    ContainerNotRunningError,
    InvalidImageNameError,
    OrchestratorError,
)
from .gpu_usage import gpu_usage
from .interactive import InteractiveSession, StreamOptions
from .naming import (
    LABEL_INSTANCE,
    LABEL_JOB_ID,
    check_name_part,
    container_name,
    network_name,
)
from .spec import ContainerSpec, RegistryAuth
from .state import ContainerPhase, ContainerState, ContainerStats

API_VERSION = "v1.41"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_FOUND = 404
# A signal that reaches a container before its init (docker-init) has set up its handlers is
# lost: the init of a PID namespace ignores what it does not handle, and a job stopped right
# after its start waited out the whole deadline, then was killed. A stop sends SIGTERM again
# after this long.
SIGTERM_AGAIN_AFTER_S = 1.0
_CONFLICT = 409


class DockerOrchestrator(Orchestrator):
    """Runs each job as one container named after its job id.

    `instance` names this platform installation: it is part of every container name and
    label, and `list_managed` returns only its containers. `pids_limit` bounds the processes
    of every container it creates.
    """

    def __init__(
        self, *, instance: str, docker_url: str | None = None, pids_limit: int = DEFAULT_PIDS_LIMIT
    ) -> None:
        self._instance = check_name_part("instance", instance)
        self._pids_limit = pids_limit
        self._docker = aiodocker.Docker(url=docker_url, api_version=API_VERSION)
        self._networks = DockerNetworks(self._docker, self._instance)
        self._isolation = BridgeIsolation()
        self._network_prefix = network_name(self._instance, "x")[:-1]

    async def close(self) -> None:
        await self._docker.close()

    # -- images ------------------------------------------------------------------------------

    async def pull(self, image: str, *, auth: RegistryAuth | None = None) -> None:
        await docker_images.pull(self._docker, image, auth)

    async def commit(self, job_id: str, image: str) -> None:
        await docker_images.commit(self._docker, container_name(self._instance, job_id), image)

    def push(self, image: str, *, auth: RegistryAuth) -> AsyncIterator[dict[str, Any]]:
        return docker_images.push(self._docker, image, auth)

    async def remove_image(self, image: str) -> None:
        await docker_images.remove(self._docker, image)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(
        self, spec: ContainerSpec, progress: StartProgress | None = None
    ) -> ContainerState:
        """Creates (unless it exists) and starts the job's container; returns its state.

        The fast path is two engine calls, create and start, plus one inspect for the start
        time: the image is pulled only when create says it is missing (so a removed image is
        noticed on the next start, with no cache to go stale), and an existing container
        (a retried start) is found through create's conflict. An image of the platform's
        registry (`spec.registry_auth`) is pulled first, every time.
        """
        await self._isolation.ensure()
        name = container_name(self._instance, spec.job_id)
        if spec.registry_auth is not None:
            await self.pull(spec.image, auth=spec.registry_auth)
        container, created = await self._create(spec, name)
        if not created:
            info = await container.show()
            if info["State"]["Status"] != "created" or info["State"].get("Error"):
                return state_from_inspect(spec.job_id, info, self._network_prefix)
        try:
            await container.start()
        except DockerError as error:
            info = await container.show()
            if not info["State"].get("Error"):
                raise ContainerCannotRunError(error.message) from error
            return state_from_inspect(spec.job_id, info, self._network_prefix)
        return state_from_inspect(spec.job_id, await container.show(), self._network_prefix)

    async def _create(self, spec: ContainerSpec, name: str) -> tuple[DockerContainer, bool]:
        """The job's container and whether this call created it."""
        docker_images.check_image_name(spec.image)
        config = create_config(spec, self._instance, pids_limit=self._pids_limit)
        try:
            try:
                return await self._docker.containers.create(config, name=name), True
            except DockerError as error:
                if error.status != _NOT_FOUND:  # 404: the image is not here yet
                    raise
            await self.pull(spec.image)
            return await self._docker.containers.create(config, name=name), True
        except DockerError as error:
            if error.status == _CONFLICT:  # created before: by a concurrent or earlier start()
                return await self._docker.containers.get(name), False
            if error.status == 400 and "invalid reference format" in error.message:
                raise InvalidImageNameError(
                    f"Invalid image name {spec.image!r}: {error.message}"
                ) from error
            if 400 <= error.status < 500:  # bad mount, unknown network, invalid option...
                raise ContainerCannotRunError(error.message) from error
            raise OrchestratorError(error.message) from error

    async def state(self, job_id: str) -> ContainerState:
        return state_from_inspect(job_id, await self._inspect(job_id), self._network_prefix)

    async def wait(self, job_id: str) -> ContainerState:
        container = self._container(job_id)
        try:
            await container.wait()
        except DockerError as error:
            raise _container_error(job_id, error) from error
        return await self.state(job_id)

    async def list_managed(self) -> list[ContainerState]:
        summaries = await self._docker.containers.list(
            all=True, filters={"label": [f"{LABEL_INSTANCE}={self._instance}"]}
        )
        states = []
        for summary in summaries:
            job_id = summary["Labels"].get(LABEL_JOB_ID)
            if not job_id:
                continue
            try:
                states.append(
                    state_from_inspect(job_id, await summary.show(), self._network_prefix)
                )
            except DockerError as error:
                if error.status != _NOT_FOUND:  # removed since the listing: not ours to report
                    raise OrchestratorError(error.message) from error
        return states

    async def stop(self, job_id: str, *, timeout_s: float = 10.0) -> None:
        container = self._container(job_id)
        try:
            try:
                await container.kill(signal="SIGTERM")
            except DockerError as error:
                if error.status == _CONFLICT:  # not running: nothing to stop
                    return
                raise
            first = min(SIGTERM_AGAIN_AFTER_S, timeout_s)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(first):
                    await container.wait()
                    return
            # Docker's stop: SIGTERM again, SIGKILL at the deadline.
            await container.stop(t=math.ceil(max(0.0, timeout_s - first)))
        except DockerError as error:
            raise _container_error(job_id, error) from error

    async def kill(self, job_id: str, *, signal: str = "SIGKILL") -> None:
        signal_name = _signal_name(signal)
        try:
            await self._container(job_id).kill(signal=signal_name)
        except DockerError as error:
            if error.status == _CONFLICT:
                raise ContainerNotRunningError(f"Job {job_id} is not running") from error
            raise _container_error(job_id, error) from error

    async def remove(self, job_id: str) -> None:
        try:
            await self._container(job_id).delete(force=True, v=True)
        except DockerError as error:
            if error.status != _NOT_FOUND:
                raise OrchestratorError(error.message) from error

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
        info = await self._inspect(job_id)
        params: dict[str, Any] = {
            "stdout": True,
            "stderr": True,
            "follow": follow,
            "timestamps": timestamps,
        }
        if since is not None:
            params["since"] = _unix_time(since)
        if tail is not None:
            params["tail"] = str(tail)
        # aiodocker's public log() decodes text; see docker_logs for why bytes are read here.
        try:
            async with self._docker._query(
                f"containers/{info['Id']}/logs", params=params, timeout=None
            ) as response:
                if info["Config"]["Tty"]:
                    chunks = docker_logs.raw(response.content)
                else:
                    chunks = docker_logs.demultiplexed(response.content, timestamps=timestamps)
                async for chunk in chunks:
                    yield chunk
        except DockerError as error:
            if error.status == _CONFLICT:  # "dead or marked for removal": as good as gone
                raise ContainerNotFoundError(f"No container for job {job_id}") from error
            raise _container_error(job_id, error) from error

    async def stats(self, job_id: str) -> ContainerStats | None:
        info = await self._inspect(job_id)
        if (
            state_from_inspect(job_id, info, self._network_prefix).phase
            is not ContainerPhase.RUNNING
        ):
            return None
        # One answer carries two samples a second apart, enough to compute a CPU rate.
        samples = await self._docker.containers.container(info["Id"]).stats(stream=False)
        if not samples or not samples[0].get("cpu_stats", {}).get("cpu_usage"):
            return None
        stats = stats_from_sample(samples[0])
        if not _has_gpus(info):
            return stats
        gpus = await gpu_usage(await self._host_pids(info["Id"]))
        if gpus is None:
            return stats
        return replace(stats, gpu_duty_cycle=gpus.duty_cycle, gpu_memory_bytes=gpus.memory_bytes)

    async def _host_pids(self, container_id: str) -> set[int]:
        try:
            top = await self._docker.containers.container(container_id).top()
        except DockerError:
            return set()  # it stopped meanwhile: no processes, no GPU use
        titles = top.get("Titles") or []
        if "PID" not in titles:
            return set()
        column = titles.index("PID")
        return {int(row[column]) for row in top.get("Processes") or [] if row[column].isdigit()}

    async def ip_address(self, job_id: str) -> str | None:
        return (await self.state(job_id)).address

    # -- networks ----------------------------------------------------------------------------

    async def ensure_network(self, name: str, labels: Mapping[str, str]) -> None:
        created = await self._networks.ensure(name, labels)
        # Rare enough to check the rules again: that repairs a flush by the operator.
        await self._isolation.ensure(again=created)

    async def remove_network(self, name: str) -> bool:
        return await self._networks.remove(name)

    async def list_networks(self) -> list[str]:
        return await self._networks.list()

    async def connect(self, job_id: str, network: str) -> str | None:
        name = container_name(self._instance, job_id)
        await self._networks.connect(name, network)
        return (await self.state(job_id)).addresses.get(network)

    async def disconnect(self, job_id: str, network: str) -> None:
        await self._networks.disconnect(container_name(self._instance, job_id), network)

    async def default_gateway(self) -> str | None:
        """The host's address on the engine's default bridge (docker0), if it has one."""
        try:
            info = await self._docker.networks.get("bridge")
            config = (await info.show()).get("IPAM", {}).get("Config") or []
        except DockerError:
            return None
        for entry in config:
            if entry.get("Gateway"):
                return str(entry["Gateway"])
            # The engine leaves the default gateway out: the subnet's first address.
            subnet = ipaddress.ip_network(entry.get("Subnet") or "::/128", strict=False)
            if subnet.version == 4 and subnet.num_addresses > 2:
                return str(subnet[1])
        return None

    # -- interaction -------------------------------------------------------------------------

    def exec(
        self, job_id: str, command: Sequence[str], options: StreamOptions
    ) -> AbstractAsyncContextManager[InteractiveSession]:
        return exec_session(self._container(job_id), job_id, command, options)

    def attach(
        self, job_id: str, options: StreamOptions
    ) -> AbstractAsyncContextManager[InteractiveSession]:
        return attach_session(self._container(job_id), job_id, options)

    # -- helpers -----------------------------------------------------------------------------

    def _container(self, job_id: str) -> DockerContainer:
        return self._docker.containers.container(container_name(self._instance, job_id))

    async def _inspect(self, job_id: str) -> dict[str, Any]:
        try:
            return await self._container(job_id).show()
        except DockerError as error:
            raise _container_error(job_id, error) from error


def _has_gpus(info: Mapping[str, Any]) -> bool:
    requests = (info.get("HostConfig") or {}).get("DeviceRequests") or []
    return any(["gpu"] in (request.get("Capabilities") or []) for request in requests)


def _container_error(job_id: str, error: DockerError) -> OrchestratorError:
    if error.status == _NOT_FOUND:
        return ContainerNotFoundError(f"No container for job {job_id}")
    return OrchestratorError(error.message)


def _unix_time(moment: datetime) -> str:
    """Seconds since the epoch, exact to the microsecond (a float would round some up).

    Resuming a log stream at a line's own timestamp must include that line. Naive datetimes
    are taken as local time.
    """
    delta = moment.astimezone(UTC) - _EPOCH
    return f"{delta.days * 86400 + delta.seconds}.{delta.microseconds:06d}"


def _signal_name(signal: str) -> str:
    """Accept "SIGTERM", "TERM" or "15"; refuse anything the host does not know."""
    try:
        if signal.isdigit():
            return signals.Signals(int(signal)).name
        name = signal.upper()
        return signals.Signals[name if name.startswith("SIG") else f"SIG{name}"].name
    except (KeyError, ValueError):
        raise ValueError(f"Unknown signal {signal!r}") from None
