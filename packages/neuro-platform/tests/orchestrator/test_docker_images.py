"""Image availability and the job reasons of docs/protocol.md §3.5 for images that cannot be had."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from neuro_platform.orchestrator import (
    ContainerNotFoundError,
    ContainerSpec,
    DockerOrchestrator,
    ImagePullError,
    InvalidImageNameError,
    JobReason,
)

SpecFactory = Callable[..., ContainerSpec]
# A registry on a loopback port nobody listens on: fails at once, needs no network.
UNREACHABLE_IMAGE = "127.0.0.1:1/nobody/nothing:latest"


async def test_pull_of_a_local_image_needs_no_registry(
    orchestrator: DockerOrchestrator, busybox_image: str
) -> None:
    await orchestrator.pull(busybox_image)  # would raise ImagePullError if it tried a registry


@pytest.mark.parametrize("image", ["Upper/Case", "bad::name", "with space", "a?b", ""])
async def test_pull_of_a_malformed_name_is_invalid_image_name(
    orchestrator: DockerOrchestrator, image: str
) -> None:
    with pytest.raises(InvalidImageNameError) as raised:
        await orchestrator.pull(image)

    assert raised.value.reason is JobReason.INVALID_IMAGE_NAME


async def test_pull_of_an_unknown_image_is_err_image_pull(
    orchestrator: DockerOrchestrator,
) -> None:
    with pytest.raises(ImagePullError) as raised:
        await orchestrator.pull(UNREACHABLE_IMAGE)

    assert raised.value.reason is JobReason.ERR_IMAGE_PULL
    assert UNREACHABLE_IMAGE in raised.value.message


async def test_start_with_an_unknown_image_fails_and_leaves_no_container(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("true", image=UNREACHABLE_IMAGE)

    with pytest.raises(ImagePullError):
        await orchestrator.start(spec)

    with pytest.raises(ContainerNotFoundError):
        await orchestrator.state(spec.job_id)
