"""``Client.images`` against our server's registry and the real dockerd."""

import subprocess
import uuid
from collections.abc import Awaitable, Callable, Iterator

import aiodocker
import pytest

import neuro_sdk
from neuro_platform.testing.server import PlatformServer

# Each test works with local images on dockerd (`local_name`, the missing-engine case).
pytestmark = pytest.mark.docker

BUSYBOX = "neuro-base/busybox:latest"
# `client_of` comes from conftest.py.
ClientOf = Callable[[str], Awaitable[neuro_sdk.Client]]


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)


def image_id(reference: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()


@pytest.fixture
def local_name() -> Iterator[str]:
    """A unique local name for busybox; every tag of it is removed afterwards."""
    name = f"neuro-test/sdk-{uuid.uuid4().hex[:10]}"
    assert docker("tag", BUSYBOX, f"{name}:v1").returncode == 0
    yield name
    listed = docker("images", "--format", "{{.Repository}}:{{.Tag}}")
    for reference in listed.stdout.split():
        if name.split("/", 1)[1] in reference:
            docker("rmi", "--no-prune", reference)


class Recorder(neuro_sdk.AbstractDockerImageProgress):
    def __init__(self) -> None:
        self.events: list[object] = []

    def pull(self, data: neuro_sdk.ImageProgressPull) -> None:
        self.events.append(data)

    def push(self, data: neuro_sdk.ImageProgressPush) -> None:
        self.events.append(data)

    def step(self, data: neuro_sdk.ImageProgressStep) -> None:
        self.events.append(data)


@pytest.mark.registry
async def test_push_inspect_pull_remove(client_of: ClientOf, local_name: str) -> None:
    client = await client_of("alice")
    local = client.parse.local_image(f"{local_name}:v1")
    progress = Recorder()

    remote = await client.images.push(local, progress=progress)

    assert remote == client.parse.remote_image(f"image:{local_name}:v1")
    assert progress.events[0] == neuro_sdk.ImageProgressPush(local, remote)
    steps = [e for e in progress.events if isinstance(e, neuro_sdk.ImageProgressStep)]
    assert steps
    assert all(step.layer_id and step.message.startswith(step.layer_id) for step in steps)

    untagged = client.parse.remote_image(f"image:{local_name}", tag_option=neuro_sdk.TagOption.DENY)
    assert untagged in await client.images.list()
    assert await client.images.tags(untagged) == [remote]
    info = await client.images.tag_info(remote)
    assert info.name == "v1"
    assert info.size == await client.images.size(remote)
    assert info.size is not None
    assert info.size > 0
    digest = await client.images.digest(remote)
    assert digest.startswith("sha256:")

    other = untagged.with_tag("other")
    pulled = await client.images.pull(remote, neuro_sdk.LocalImage(local_name, "pulled"))
    assert pulled == neuro_sdk.LocalImage(local_name, "pulled")
    assert image_id(f"{local_name}:pulled") == image_id(BUSYBOX)
    # The registry's name for the image is not left behind in the engine.
    assert image_id(remote.as_docker_url()) == ""

    await client.images.rm(remote, digest)
    assert await client.images.tags(untagged) == []
    with pytest.raises(neuro_sdk.ResourceNotFound, match="not found"):
        await client.images.digest(other)


@pytest.mark.registry
async def test_tags_follow_the_next_link(client_of: ClientOf, local_name: str) -> None:
    client = await client_of("alice")
    names = [f"t{n:02d}" for n in range(32)]  # more than one page of 30
    for name in names:
        await client.images.push(
            neuro_sdk.LocalImage(local_name, "v1"),
            client.parse.remote_image(f"image:{local_name}:{name}"),
        )
    untagged = client.parse.remote_image(f"image:{local_name}", tag_option=neuro_sdk.TagOption.DENY)

    tags = await client.images.tags(untagged)

    assert sorted(str(image.tag) for image in tags) == names


async def test_the_token_goes_only_to_the_platform_registry(
    client_of: ClientOf, local_name: str
) -> None:
    client = await client_of("alice")
    external = client.parse.remote_image("registry.example.com/alice/app:1")
    with pytest.raises(ValueError, match="not in the platform registry"):
        await client.images.push(neuro_sdk.LocalImage(local_name, "v1"), external)
    with pytest.raises(ValueError, match="not in the platform registry"):
        await client.images.pull(external)
    mine = client.parse.remote_image(f"image:{local_name}:v1")
    with pytest.raises(ValueError, match="Invalid image digest"):
        await client.images.rm(mine, "../../../_catalog")


async def test_missing_local_image_and_missing_engine(
    client_of: ClientOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await client_of("alice")
    with pytest.raises(ValueError, match="not found in your local docker images"):
        await client.images.push(neuro_sdk.LocalImage("neuro-test/no-such-image", "1"))
    with monkeypatch.context() as patch:
        patch.setenv("DOCKER_HOST", "unix:///nonexistent")
        with pytest.raises(aiodocker.DockerError, match="Docker engine is not available") as info:
            await client.images.push(neuro_sdk.LocalImage(BUSYBOX))
    assert info.value.status == 900


async def test_a_user_removed_mid_push_gets_an_auth_error(
    platform_server: PlatformServer, client_of: ClientOf, local_name: str
) -> None:
    platform_server.create_user("carol", "carol-password")
    client = await client_of("carol")

    class RemoveUserOnStart(Recorder):
        def push(self, data: neuro_sdk.ImageProgressPush) -> None:
            # The client holds its token and the engine is about to use it.
            platform_server.admin("user", "remove", "carol", "--wait-s", "0")

    with pytest.raises(neuro_sdk.AuthError):
        await client.images.push(
            neuro_sdk.LocalImage(local_name, "v1"), progress=RemoveUserOnStart()
        )
