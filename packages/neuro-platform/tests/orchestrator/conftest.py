"""Fixtures for the job runtime tests: the real local dockerd and the offline base images.

Every test session gets its own platform instance name, so its containers are labelled apart
from any other platform or session on this dockerd and can all be removed at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from neuro_platform.orchestrator import ContainerSpec, DockerOrchestrator
from neuro_platform.orchestrator.testing import (
    build_base_image,
    remove_instance_containers,
    spec_factory,
)


@pytest.fixture(scope="session")
def busybox_image() -> str:
    return build_base_image("busybox")


@pytest.fixture(scope="session")
def debian_image() -> str:
    return build_base_image("debian")  # ~40 s the first time on a machine, then cached


@pytest.fixture(scope="session")
def instance() -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    remove_instance_containers(name)  # for tests that died before their own cleanup


@pytest.fixture
async def orchestrator(instance: str) -> AsyncIterator[DockerOrchestrator]:
    async with DockerOrchestrator(instance=instance) as orchestrator:
        yield orchestrator
        for state in await orchestrator.list_managed():
            await orchestrator.remove(state.job_id)


@pytest.fixture
def make_spec(busybox_image: str) -> Callable[..., ContainerSpec]:
    """A small busybox job with a fresh id: `make_spec(*command, **field_overrides)`."""
    return spec_factory(busybox_image)
