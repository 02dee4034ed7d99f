"""pytest fixtures; other packages import them into their conftest:

from neuro_platform.testing.fixtures import platform_server  # noqa: F401

A server takes a second or more to start, so a test asks for a fresh one (`platform_server`)
only when it needs one: a module whose tests each keep to their own names can share
`shared_platform_server`, and a module whose tests run jobs shares `jobs_platform_server`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..orchestrator.testing import build_base_image, remove_instance_containers
from . import slurm
from .server import PlatformServer, running_jobs_platform, running_platform

USERS = {"alice": "alice-password", "bob": "bob-password"}


@pytest.fixture
def platform_server(tmp_path: Path) -> Iterator[PlatformServer]:
    """A fresh server with users alice/alice-password and bob/bob-password.

    Jobs outlive their server on purpose (a restarted platform re-adopts them), so the fixture
    removes the containers this server's tests left behind, once it has stopped (a running
    server could be starting one of them again)."""
    yield from _serving(tmp_path)


@pytest.fixture(scope="module")
def shared_platform_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    """Like `platform_server`, but one server for all the tests of a module that asks for it."""
    yield from _serving(tmp_path_factory.mktemp("shared-platform"))


def _serving(directory: Path, config: dict[str, Any] | None = None) -> Iterator[PlatformServer]:
    instance = None
    try:
        with running_platform(directory, users=USERS, config=config) as server:
            instance = server.settings().orchestrator_instance
            yield server
    finally:
        if instance is not None:
            remove_instance_containers(instance)


@pytest.fixture(scope="module")
def jobs_platform_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformServer]:
    """A server with alice and bob that runs real busybox jobs, shared by a module's tests.

    Per module, not per session: a module's jobs (some sleep for minutes) are removed when it
    ends, so they never hold the node's room or a job name in another module. Its own
    orchestrator instance name keeps its containers apart from any other run on this dockerd.

    Its jobs run on the local dockerd, or on the Slurm test cluster for the `slurm` variant
    of a test marked `both_orchestrators` (pytest_plugin.py parametrizes this fixture)."""
    kind = getattr(request, "param", "docker")
    build_base_image("busybox")
    instance = f"test-{uuid.uuid4().hex[:12]}"
    directory = tmp_path_factory.mktemp(f"jobs-platform-{kind}")
    config = {"jobs": {"poll_interval_s": 0.2}}
    if kind == "slurm":
        yield from _serving_on_slurm(directory, instance, config)
        return
    with running_jobs_platform(directory, instance, users=USERS, config=config) as server:
        yield server


def _serving_on_slurm(
    directory: Path, instance: str, config: dict[str, Any]
) -> Iterator[PlatformServer]:
    settings = slurm.cluster_for_tests()
    with slurm.running_slurm_platform(
        directory, instance, settings, config=config, users=USERS
    ) as server:
        yield server


@pytest.fixture(scope="module")
def buckets_platform_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PlatformServer]:
    """A server with alice and bob, shared by a module's tests, whose buckets are on the
    embedded SeaweedFS (started by the first bucket call, ~3 s; stopped with the server).
    The store is on loopback (no job reaches it here), and imports may reach it there: it
    stands in for another S3 endpoint, which the server otherwise refuses on loopback."""
    config = {"buckets": {"s3_host": "127.0.0.1", "import_allowed_hosts": ["127.0.0.1"]}}
    yield from _serving(tmp_path_factory.mktemp("buckets-platform"), config)
