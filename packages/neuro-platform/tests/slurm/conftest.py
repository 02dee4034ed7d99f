"""Fixtures for the Slurm orchestrator tests: the two-node cluster of scripts/slurm-cluster.sh.

The cluster is brought up (idempotently) by the first test that needs it; tests are skipped
only where the script's prerequisites are not installed (`make test` installs them).
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from neuro_platform.orchestrator import ContainerSpec, SlurmOrchestrator
from neuro_platform.orchestrator.slurm_script import image_archive_name
from neuro_platform.orchestrator.testing import build_base_image
from neuro_platform.settings import SlurmSettings
from neuro_platform.testing import slurm

MIB = 1024**2
# One definition of the cluster for every package's tests (neuro_platform.testing.slurm).
CLUSTER_SCRIPT = slurm.CLUSTER_SCRIPT
CLUSTER_DIR = slurm.CLUSTER_DIR
cancel_instance_jobs = slurm.cancel_instance_jobs


@pytest.fixture(scope="session")
def slurm_cluster() -> Path:
    if missing := slurm.missing_prerequisites():
        pytest.skip(f"the Slurm test cluster needs {', '.join(missing)} (make setup)")
    subprocess.run([str(CLUSTER_SCRIPT), "up"], check=True, capture_output=True)
    return CLUSTER_DIR


@pytest.fixture(scope="session")
def slurm_settings(slurm_cluster: Path) -> SlurmSettings:
    return SlurmSettings(
        restd_socket=slurm_cluster / "run" / "slurmrestd.sock",
        token_file=slurm_cluster / "etc" / "token",
        shared_dir=slurm_cluster / "shared",
        node_env_file=slurm_cluster / "etc" / "node.env",
        slurm_conf=slurm_cluster / "etc" / "slurm.conf",
    )


@pytest.fixture(scope="session")
def busybox_image(slurm_settings: SlurmSettings) -> str:
    """The offline busybox image, saved where the nodes load it from (they cannot pull)."""
    image = build_base_image("busybox")
    archive = slurm_settings.shared_dir / "images" / image_archive_name(image)
    if not archive.exists():
        partial = archive.with_suffix(".partial")
        subprocess.run(["docker", "save", "-o", str(partial), image], check=True)
        partial.rename(archive)
    return image


@pytest.fixture(scope="session")
def instance(slurm_settings: SlurmSettings) -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    cancel_instance_jobs(name)
    shutil.rmtree(slurm_settings.shared_dir / "jobs" / name, ignore_errors=True)


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

    def make(*command: str, **overrides: Any) -> ContainerSpec:
        spec = ContainerSpec(
            job_id=f"job-{uuid.uuid4()}",
            owner="alice",
            image=busybox_image,
            cpu=0.5,
            memory=64 * MIB,
            command=command or None,
        )
        return replace(spec, **overrides)

    return make


async def first_output(orchestrator: SlurmOrchestrator, job_id: str) -> bytes:
    """The job's first chunk of output, waited for (the test's timeout bounds it)."""
    chunks = orchestrator.logs(job_id, follow=True)
    assert isinstance(chunks, AsyncGenerator)
    try:
        return bytes(await anext(chunks))
    finally:
        await chunks.aclose()
