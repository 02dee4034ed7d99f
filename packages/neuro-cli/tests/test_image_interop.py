"""The original ``neuro-cli==22.7.1`` pushes, lists, inspects, pulls and removes images on
our registry, and sees what our CLI pushed."""

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuro_platform.testing.original_cli import run_original
from neuro_platform.testing.server import PlatformServer

from .conftest import LogIn, NeuroRunner

pytestmark = pytest.mark.interop

BUSYBOX = "neuro-base/busybox:latest"


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)


def image_id(reference: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()


@pytest.fixture
def local_image() -> Iterator[str]:
    name = f"neuro-test/orig-{uuid.uuid4().hex[:10]}"
    assert docker("tag", BUSYBOX, f"{name}:v1").returncode == 0
    yield name
    listed = docker("images", "--format", "{{.Repository}}:{{.Tag}}")
    for reference in listed.stdout.split():
        if name.split("/", 1)[1] in reference:
            docker("rmi", "--no-prune", reference)


def test_original_cli_image_commands_on_our_registry(
    platform_server: PlatformServer,
    neuro: NeuroRunner,
    log_in: LogIn,
    local_image: str,
    tmp_path: Path,
) -> None:
    original_config = tmp_path / "original-config"
    token = log_in(platform_server)
    login = run_original(
        original_config, "config", "login-with-token", token, str(platform_server.api_url)
    )
    assert login.returncode == 0, login.stderr
    short = local_image.split("/", 1)[1]

    pushed = run_original(original_config, "push", f"{local_image}:v1", f"image:{short}:v1")
    assert pushed.returncode == 0, pushed.stderr
    assert f"image://default/alice/{short}:v1" in pushed.stdout

    listed = run_original(original_config, "image", "ls", "--full-uri")
    assert listed.returncode == 0, listed.stderr
    assert f"image://default/alice/{short}" in listed.stdout
    tags = run_original(original_config, "image", "tags", f"image:{short}")
    assert tags.returncode == 0, tags.stderr
    assert "v1" in tags.stdout.split()
    size = run_original(original_config, "image", "size", f"image:{short}:v1")
    assert size.returncode == 0, size.stderr
    digest = run_original(original_config, "image", "digest", f"image:{short}:v1")
    assert digest.returncode == 0, digest.stderr
    # Both clients see the same manifest.
    ours = neuro("image", "digest", f"image:{short}:v1")
    assert ours.output.strip() == digest.stdout.strip()

    pulled = run_original(original_config, "pull", f"image:{short}:v1", f"{local_image}:orig")
    assert pulled.returncode == 0, pulled.stderr
    assert image_id(f"{local_image}:orig") == image_id(BUSYBOX)

    # What our CLI pushed, the original pulls, and the other way round.
    assert neuro("push", f"{local_image}:v1", f"image:{short}:ours").exit_code == 0
    assert run_original(original_config, "pull", f"image:{short}:ours").returncode == 0
    assert image_id(f"{short}:ours") == image_id(BUSYBOX)
    docker("rmi", "--no-prune", f"{short}:ours")

    removed = run_original(original_config, "image", "rm", "-f", f"image:{short}:v1")
    assert removed.returncode == 0, removed.stderr
    assert "v1" not in neuro("image", "tags", f"image:{short}").output.split()

    missing = run_original(original_config, "image", "size", f"image:{short}:nope")
    assert missing.returncode != 0
