"""Fixtures of the console tests: one real server per module running real busybox jobs on
dockerd, with alice and bob, and HTTP sessions signed in as them (Bearer or cookie)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuro_platform.orchestrator.testing import build_base_image, remove_instance_containers
from neuro_platform.testing import PlatformServer, running_platform
from neuro_platform.testing.fixtures import (
    USERS,
    buckets_platform_server,  # noqa: F401 (fixture)
)

MIB = 1024**2


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    build_base_image("busybox")
    instance = f"test-{uuid.uuid4().hex[:12]}"
    config = {
        "jobs": {"orchestrator_instance": instance, "poll_interval_s": 0.2},
        "node": {"cpu": 2.0, "memory": 1024 * MIB, "gpu": 0},
        "clusters": [
            {"name": "default", "presets": [{"name": "small", "cpu": 0.5, "memory": 64 * MIB}]}
        ],
    }
    try:
        with running_platform(
            tmp_path_factory.mktemp("console"), config=config, users=USERS
        ) as server:
            yield server
    finally:
        remove_instance_containers(instance)


@pytest.fixture
def screenshots(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Where a browser test keeps its screenshots (the test's own output folder)."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder
