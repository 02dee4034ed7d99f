"""Fixtures for the jobs tests: our real server on loopback running real busybox containers.

Each server gets its own orchestrator instance name, so its containers are labelled apart
from every other server's on this dockerd and can all be removed when the test ends (the
platform itself leaves jobs running when it stops: that is what re-adoption is for).
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from neuro_platform.orchestrator.naming import container_name
from neuro_platform.orchestrator.testing import build_base_image, remove_instance_containers
from neuro_platform.testing import PlatformServer, running_platform, slurm
from neuro_platform.testing.fixtures import USERS

from .client import JobsClient

MIB = 1024**2
# A node with room for exactly two `small` jobs, so tests can fill it up.
TINY_NODE = {"cpu": 1.0, "memory": 512 * MIB, "gpu": 0}
PRESETS = [
    {"name": "small", "cpu": 0.5, "memory": 64 * MIB},
    {"name": "half", "cpu": 0.5, "memory": 256 * MIB},
    {"name": "spot", "cpu": 0.5, "memory": 256 * MIB, "scheduler_enabled": True},
]

ServerFactory = Callable[..., AbstractContextManager[PlatformServer]]


@pytest.fixture(scope="session")
def busybox_image() -> str:
    return build_base_image("busybox")


def jobs_config(instance: str, **jobs: Any) -> dict[str, Any]:
    return {
        "jobs": {"orchestrator_instance": instance, "poll_interval_s": 0.2, **jobs},
        "node": TINY_NODE,
        "clusters": [{"name": "default", "presets": PRESETS}],
    }


@pytest.fixture
def make_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """`with make_server(**jobs_settings) as server:` a fresh server with alice and bob."""
    instances: list[str] = []

    @contextmanager
    def make(
        *,
        instance: str | None = None,
        tmp_path: Path | None = None,
        restart: bool = False,
        **jobs: Any,
    ) -> Iterator[PlatformServer]:
        """`restart=True` starts a server again on the data of an earlier one."""
        name = instance or f"test-{uuid.uuid4().hex[:12]}"
        instances.append(name)
        directory = tmp_path or tmp_path_factory.mktemp("platform")
        users = None if restart else USERS
        with running_platform(directory, config=jobs_config(name, **jobs), users=users) as server:
            yield server

    yield make
    for name in instances:
        remove_instance_containers(name)


@pytest.fixture(scope="module")
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformServer]:
    """One server for the tests that only create and watch their own jobs; on the Slurm test
    cluster for the `slurm` variant of a test marked `both_orchestrators`."""
    instance = f"test-{uuid.uuid4().hex[:12]}"
    config = jobs_config(instance, life_span_minute_s=1.0)
    directory = tmp_path_factory.mktemp("shared")
    if getattr(request, "param", "docker") == "slurm":
        with on_slurm(directory, instance, config) as server:
            yield server
        return
    try:
        with running_platform(directory, config=config, users=USERS) as server:
            yield server
    finally:
        remove_instance_containers(instance)


@contextmanager
def on_slurm(directory: Path, instance: str, config: dict[str, Any]) -> Iterator[PlatformServer]:
    """A server with `config` whose jobs run on the Slurm test cluster (its two nodes)."""
    settings = slurm.cluster_for_tests()
    config = {**config, "node": slurm.CLUSTER_NODE}
    with slurm.running_slurm_platform(
        directory, instance, settings, config=config, users=USERS
    ) as server:
        yield server


async def _client(server: PlatformServer, user: str) -> AsyncIterator[JobsClient]:
    async with JobsClient(server, user) as client:
        yield client
        # The shared node has room for two jobs: a test that failed midway must not keep them.
        for status in ("pending", "running", "suspended"):
            for job in await client.list([("status", status), ("owner", user)]):
                await client.kill(job["id"])


@pytest.fixture
async def alice(shared_server: PlatformServer, busybox_image: str) -> AsyncIterator[JobsClient]:
    async for client in _client(shared_server, "alice"):
        yield client


@pytest.fixture
async def bob(shared_server: PlatformServer) -> AsyncIterator[JobsClient]:
    async for client in _client(shared_server, "bob"):
        yield client


def busybox_job(command: str, **fields: Any) -> Mapping[str, Any]:
    """A `?from_preset` body for a busybox job running `sh -c COMMAND`."""
    return {
        "image": "neuro-base/busybox:latest",
        "command": f"sh -c '{command}'",
        "preset_name": "small",
        **fields,
    }


async def wait_for_container(
    instance: str, job_id: str, done: Callable[[subprocess.CompletedProcess[str]], bool], *args: str
) -> None:
    """Asks dockerd `docker ARGS <the job's container>` until `done(answer)`: for what a job
    does while no platform runs to be asked. No deadline: the test's timeout is one."""
    name = container_name(instance, job_id)
    while True:
        answer = await asyncio.to_thread(
            subprocess.run, ["docker", *args, name], capture_output=True, text=True, check=False
        )
        if done(answer):
            return
        await asyncio.sleep(0.1)


@contextmanager
def counted_commits(sessions: async_sessionmaker[AsyncSession]) -> Iterator[list[object]]:
    """The commits made through `sessions`' engine while the block runs, one entry each."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(engine.sync_engine, "commit", count)
    try:
        yield commits
    finally:
        event.remove(engine.sync_engine, "commit", count)
