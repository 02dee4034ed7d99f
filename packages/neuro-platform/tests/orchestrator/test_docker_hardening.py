"""What every container the orchestrator creates is denied, and what a privileged spec gets."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import aiodocker

from neuro_platform.orchestrator import ContainerSpec, DockerOrchestrator
from neuro_platform.orchestrator.errors import ContainerCannotRunError
from neuro_platform.orchestrator.naming import container_name
from neuro_platform.settings import DEFAULT_PIDS_LIMIT

SpecFactory = Callable[..., ContainerSpec]


async def _host_config(instance: str, spec: ContainerSpec) -> dict[str, Any]:
    async with aiodocker.Docker() as docker:
        container = await docker.containers.get(container_name(instance, spec.job_id))
        host_config: dict[str, Any] = (await container.show())["HostConfig"]
        return host_config


async def test_containers_get_no_new_privileges_and_the_default_pids_limit(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory, instance: str
) -> None:
    spec = make_spec("sleep", "300")
    await orchestrator.start(spec)

    host_config = await _host_config(instance, spec)

    assert host_config["SecurityOpt"] == ["no-new-privileges:true"]
    assert host_config["PidsLimit"] == DEFAULT_PIDS_LIMIT
    assert host_config["Privileged"] is False


async def test_privileged_spec_creates_a_privileged_container(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory, instance: str
) -> None:
    spec = make_spec("sleep", "300", privileged=True)
    # A sandbox without the capabilities (like this project's own machine) refuses to start
    # it; the container the engine created still shows what was asked for.
    with contextlib.suppress(ContainerCannotRunError):
        await orchestrator.start(spec)

    assert (await _host_config(instance, spec))["Privileged"] is True
