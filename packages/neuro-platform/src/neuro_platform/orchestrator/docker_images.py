"""Images on the engine: pulls (with registry credentials), commits, loads, pushes (`job save`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiodocker
from aiodocker.exceptions import DockerError

from .errors import (
    ContainerNotFoundError,
    ImagePullError,
    ImagePushError,
    InvalidImageNameError,
    OrchestratorError,
)
from .spec import RegistryAuth

_NOT_FOUND = 404
# Characters that would change the meaning of the engine URL an image name is put into.
_URL_UNSAFE = frozenset(" \t\n\r?#%")


def check_image_name(image: str) -> None:
    if not image or _URL_UNSAFE.intersection(image):
        raise InvalidImageNameError(f"Invalid image name {image!r}")


async def pull(docker: aiodocker.Docker, image: str, auth: RegistryAuth | None) -> None:
    check_image_name(image)
    if auth is None:
        try:
            await docker.images.inspect(image)
            return
        except DockerError as error:
            if error.status != _NOT_FOUND:
                raise _image_error(image, error) from error
    try:
        await docker.images.pull(image, auth=None if auth is None else _auth(auth))
    except DockerError as error:
        raise _image_error(image, error) from error


async def commit(docker: aiodocker.Docker, container: str, image: str) -> None:
    check_image_name(image)
    repository, tag = split_tag(image)
    try:
        found = await docker.containers.get(container)
        await found.commit(repository=repository, tag=tag)
    except DockerError as error:
        if error.status == _NOT_FOUND:
            raise ContainerNotFoundError(f"No container {container}") from error
        raise OrchestratorError(f"Cannot commit the job's container: {error.message}") from error


async def load(docker: aiodocker.Docker, archive: Path) -> None:
    """Loads a `docker save` / `podman save --format docker-archive` file, streamed from disk
    (a Slurm job's saved container: orchestrator/slurm_images.py)."""
    try:
        with archive.open("rb") as data:
            await docker.images.import_image(data)
    except DockerError as error:  # DockerStreamError too: the engine's in-band error
        raise OrchestratorError(f"Cannot load the job's image: {error.message}") from error


async def push(
    docker: aiodocker.Docker, image: str, auth: RegistryAuth
) -> AsyncIterator[dict[str, Any]]:
    check_image_name(image)
    try:
        async for item in docker.images.push(image, auth=_auth(auth), stream=True):
            yield item
    except DockerError as error:  # DockerStreamError too: the engine's in-band error
        raise ImagePushError(f"Cannot push image {image!r}: {error.message}") from error


async def remove(docker: aiodocker.Docker, image: str) -> None:
    try:
        # noprune=False drops only layers no other image or container uses.
        await docker.images.delete(image)
    except DockerError as error:
        if error.status != _NOT_FOUND:
            raise OrchestratorError(f"Cannot remove image {image!r}: {error.message}") from error


def split_tag(image: str) -> tuple[str, str]:
    """`host:port/a/b:tag` → (`host:port/a/b`, `tag`); no tag means `latest`."""
    slash, colon = image.rfind("/"), image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1 :]
    return image, "latest"


def _auth(auth: RegistryAuth) -> dict[str, Any]:
    return {"username": auth.username, "password": auth.password}


def _image_error(image: str, error: DockerError) -> OrchestratorError:
    if error.status == 400 or "invalid reference format" in error.message:
        return InvalidImageNameError(f"Invalid image name {image!r}: {error.message}")
    return ImagePullError(f"Cannot pull image {image!r}: {error.message}")
