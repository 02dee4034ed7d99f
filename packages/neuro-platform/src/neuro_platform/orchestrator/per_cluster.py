"""One engine per cluster: the job runtime the scheduler and the services see when clusters
run on different engines (one on the local dockerd, another on a Slurm cluster).

Every call that names a job goes to the engine of the job's cluster, which `cluster_of`
reads (from the jobs table) once per job: a job never changes cluster. Calls about every
job (`list_managed`, networks) ask each engine. An image committed by `commit` is pushed
and removed by the engine that holds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

from .base import Orchestrator, StartProgress
from .interactive import InteractiveSession, StreamOptions
from .spec import ContainerSpec, RegistryAuth
from .state import ContainerState, ContainerStats

# A job's cluster by its id; None when the job is unknown (e.g. removed from the database).
ClusterOf = Callable[[str], Awaitable[str | None]]


class PerClusterOrchestrator(Orchestrator):
    def __init__(
        self, engines: Mapping[str, Orchestrator], cluster_of: ClusterOf, default: str
    ) -> None:
        """`engines` by cluster name (clusters may share one); `default` names the cluster
        whose engine serves jobs of unknown clusters and images no job committed."""
        self._engines = dict(engines)
        self._default = self._engines[default]
        self._cluster_of = cluster_of
        self._clusters: dict[str, str | None] = {}
        self._image_engines: dict[str, Orchestrator] = {}

    @property
    def distinct(self) -> list[Orchestrator]:
        unique: list[Orchestrator] = []
        for engine in self._engines.values():
            if all(engine is not other for other in unique):
                unique.append(engine)
        return unique

    async def engine_of(self, job_id: str) -> Orchestrator:
        if job_id not in self._clusters:
            self._clusters[job_id] = await self._cluster_of(job_id)
        cluster = self._clusters[job_id]
        return self._engines.get(cluster, self._default) if cluster else self._default

    async def close(self) -> None:
        for engine in self.distinct:
            await engine.close()

    # -- images ------------------------------------------------------------------------------

    async def pull(self, image: str, *, auth: RegistryAuth | None = None) -> None:
        await self._default.pull(image, auth=auth)

    async def commit(self, job_id: str, image: str) -> None:
        engine = await self.engine_of(job_id)
        await engine.commit(job_id, image)
        self._image_engines[image] = engine

    async def push(self, image: str, *, auth: RegistryAuth) -> AsyncIterator[dict[str, Any]]:
        async for progress in self._image_engines.get(image, self._default).push(image, auth=auth):
            yield progress

    async def remove_image(self, image: str) -> None:
        await self._image_engines.pop(image, self._default).remove_image(image)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(
        self, spec: ContainerSpec, progress: StartProgress | None = None
    ) -> ContainerState:
        return await (await self.engine_of(spec.job_id)).start(spec, progress)

    async def state(self, job_id: str) -> ContainerState:
        return await (await self.engine_of(job_id)).state(job_id)

    async def wait(self, job_id: str) -> ContainerState:
        return await (await self.engine_of(job_id)).wait(job_id)

    async def list_managed(self) -> list[ContainerState]:
        found = await asyncio.gather(*(engine.list_managed() for engine in self.distinct))
        return [state for states in found for state in states]

    async def stop(self, job_id: str, *, timeout_s: float = 10.0) -> None:
        await (await self.engine_of(job_id)).stop(job_id, timeout_s=timeout_s)

    async def kill(self, job_id: str, *, signal: str = "SIGKILL") -> None:
        await (await self.engine_of(job_id)).kill(job_id, signal=signal)

    async def remove(self, job_id: str) -> None:
        await (await self.engine_of(job_id)).remove(job_id)
        self._clusters.pop(job_id, None)

    async def logs(
        self,
        job_id: str,
        *,
        since: datetime | None = None,
        timestamps: bool = False,
        follow: bool = False,
        tail: int | None = None,
    ) -> AsyncIterator[bytes]:
        engine = await self.engine_of(job_id)
        async for chunk in engine.logs(
            job_id, since=since, timestamps=timestamps, follow=follow, tail=tail
        ):
            yield chunk

    async def stats(self, job_id: str) -> ContainerStats | None:
        return await (await self.engine_of(job_id)).stats(job_id)

    async def ip_address(self, job_id: str) -> str | None:
        return await (await self.engine_of(job_id)).ip_address(job_id)

    @asynccontextmanager
    async def _exec(
        self, job_id: str, command: Sequence[str], options: StreamOptions
    ) -> AsyncIterator[InteractiveSession]:
        engine = await self.engine_of(job_id)
        async with engine.exec(job_id, command, options) as session:
            yield session

    def exec(
        self, job_id: str, command: Sequence[str], options: StreamOptions
    ) -> AbstractAsyncContextManager[InteractiveSession]:
        return self._exec(job_id, command, options)

    @asynccontextmanager
    async def _attach(
        self, job_id: str, options: StreamOptions
    ) -> AsyncIterator[InteractiveSession]:
        engine = await self.engine_of(job_id)
        async with engine.attach(job_id, options) as session:
            yield session

    def attach(
        self, job_id: str, options: StreamOptions
    ) -> AbstractAsyncContextManager[InteractiveSession]:
        return self._attach(job_id, options)

    # -- networks: an owner's network exists on every engine that may run their jobs ---------

    async def ensure_network(self, name: str, labels: Mapping[str, str]) -> None:
        for engine in self.distinct:
            await engine.ensure_network(name, labels)

    async def remove_network(self, name: str) -> bool:
        removed = [await engine.remove_network(name) for engine in self.distinct]
        return all(removed)

    async def list_networks(self) -> list[str]:
        names: list[str] = []
        for engine in self.distinct:
            names.extend(n for n in await engine.list_networks() if n not in names)
        return names

    async def connect(self, job_id: str, network: str) -> str | None:
        return await (await self.engine_of(job_id)).connect(job_id, network)

    async def disconnect(self, job_id: str, network: str) -> None:
        await (await self.engine_of(job_id)).disconnect(job_id, network)
