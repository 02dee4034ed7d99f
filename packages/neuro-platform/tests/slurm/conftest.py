"""Fixtures for the Slurm orchestrator tests: the two-node cluster of scripts/slurm-cluster.sh.

The cluster is brought up (idempotently) by the first test that needs it; tests are skipped
only where the script's prerequisites are not installed (`make test` installs them).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from neuro_platform.orchestrator import ContainerSpec, SlurmOrchestrator
from neuro_platform.orchestrator.testing import build_base_image, spec_factory
from neuro_platform.settings import SlurmSettings
from neuro_platform.testing import slurm

# One definition of the cluster for every package's tests (neuro_platform.testing.slurm).
CLUSTER_SCRIPT = slurm.CLUSTER_SCRIPT
CLUSTER_DIR = slurm.CLUSTER_DIR
cancel_instance_jobs = slurm.cancel_instance_jobs


@pytest.fixture(scope="session")
def slurm_settings() -> SlurmSettings:
    return slurm.cluster_for_tests()


@pytest.fixture(scope="session")
def slurm_cluster(slurm_settings: SlurmSettings) -> Path:
    return CLUSTER_DIR


@pytest.fixture(scope="session")
def busybox_image(slurm_settings: SlurmSettings) -> str:
    """The offline busybox image (the cluster's nodes have it: they cannot pull)."""
    return build_base_image("busybox")


@pytest.fixture(scope="session")
def instance(slurm_settings: SlurmSettings) -> Iterator[str]:
    name = slurm.new_instance()
    yield name
    cancel_instance_jobs(name, slurm_settings)


@pytest.fixture
async def orchestrator(
    instance: str, slurm_settings: SlurmSettings
) -> AsyncIterator[SlurmOrchestrator]:
    async with SlurmOrchestrator(instance=instance, settings=slurm_settings) as orchestrator:
        yield orchestrator
        for state in await orchestrator.list_managed():
            await orchestrator.remove(state.job_id)


@pytest.fixture
def make_spec(busybox_image: str) -> Callable[..., ContainerSpec]:
    """A small busybox job with a fresh id: `make_spec(*command, **field_overrides)`."""
    return spec_factory(busybox_image)


async def first_output(orchestrator: SlurmOrchestrator, job_id: str) -> bytes:
    """The job's first chunk of output, waited for (the test's timeout bounds it)."""
    chunks = orchestrator.logs(job_id, follow=True)
    assert isinstance(chunks, AsyncGenerator)
    try:
        return bytes(await anext(chunks))
    finally:
        await chunks.aclose()
