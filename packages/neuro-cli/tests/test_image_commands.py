"""``neuro image``/``images``/``push``/``pull``, ``neuro config docker`` and
``docker-credential-neuro`` against our server's registry and the real dockerd."""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuro_platform.testing.server import PlatformServer

from .conftest import LogIn, NeuroRunner

# Each test tags a local copy of busybox on dockerd (`local_image`).
pytestmark = pytest.mark.docker

BUSYBOX = "neuro-base/busybox:latest"


def docker(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=False, env=env, timeout=120
    )


def image_id(reference: str) -> str:
    result = docker("image", "inspect", "--format", "{{.Id}}", reference)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def local_image() -> Iterator[str]:
    """A uniquely named local copy of busybox; every tag of that name goes afterwards."""
    name = f"neuro-test/img-{uuid.uuid4().hex[:10]}"
    assert docker("tag", BUSYBOX, f"{name}:v1").returncode == 0
    yield name
    listed = docker("images", "--format", "{{.Repository}}:{{.Tag}}")
    for reference in listed.stdout.split():
        if name in reference:
            docker("rmi", "--no-prune", reference)


def registry_host(server: PlatformServer) -> str:
    return f"{server.base_url.host}:{server.base_url.port}"


def one_line_error(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("ERROR: "), output
    return lines[0]


@pytest.mark.registry
def test_push_list_inspect_pull_and_remove(
    platform_server: PlatformServer, neuro: NeuroRunner, log_in: LogIn, local_image: str
) -> None:
    log_in(platform_server)
    short = local_image.split("/", 1)[1]

    pushed = neuro("push", f"{local_image}:v1", f"image:{short}:v1")
    assert pushed.exit_code == 0, pushed.output
    assert f"Pushing image {local_image}:v1 => image://default/alice/{short}:v1" in pushed.output
    assert pushed.output.splitlines()[-1] == f"image://default/alice/{short}:v1"
    # The registry's name for the image was only needed for the push.
    pushed_name = f"{registry_host(platform_server)}/alice/{short}:v1"
    assert docker("image", "inspect", pushed_name).returncode != 0

    # Without a remote name: the local name (tag "latest") in alice's namespace.
    docker("tag", BUSYBOX, f"{local_image}:latest")
    assert neuro("push", local_image).exit_code == 0

    listed = neuro("image", "ls")
    assert listed.exit_code == 0, listed.output
    assert f"image:neuro-test/img-{short.split('-', 1)[1]}" in listed.output
    long = neuro("images", "-l", "--full-uri")
    assert f"image://default/alice/{local_image}" in long.output
    assert f"{registry_host(platform_server)}/alice/{local_image}" in long.output
    tags = neuro("image", "tags", f"image:{short}")
    assert tags.exit_code == 0, tags.output
    assert "v1" in tags.output.split()
    tags_long = neuro("image", "tags", "-l", f"image:{short}")
    assert tags_long.exit_code == 0, tags_long.output
    assert "v1" in tags_long.output
    assert "MB" in tags_long.output or "kB" in tags_long.output

    size = neuro("image", "size", f"image:{short}:v1")
    assert size.exit_code == 0, size.output
    assert size.output.strip().endswith(("kB", "MB"))
    digest = neuro("image", "digest", f"image:{short}:v1")
    assert digest.exit_code == 0, digest.output
    assert digest.output.strip().startswith("sha256:")

    pulled = neuro("pull", f"image:{short}:v1", f"{local_image}:pulled")
    assert pulled.exit_code == 0, pulled.output
    assert pulled.output.splitlines()[-1] == f"{local_image}:pulled"
    assert image_id(f"{local_image}:pulled") == image_id(BUSYBOX)

    removed = neuro("image", "rm", f"image:{short}:v1")
    assert removed.exit_code == 0, removed.output
    assert neuro("image", "tags", f"image:{short}").output.split().count("v1") == 0
    gone = neuro("image", "size", f"image:{short}:v1")
    assert gone.exit_code != 0
    assert "not found" in one_line_error(gone.stderr)


def test_bad_input_is_one_line_and_non_zero(
    platform_server: PlatformServer,
    neuro: NeuroRunner,
    log_in: LogIn,
    local_image: str,
    neuro_executable: Path,
    subprocess_env: dict[str, str],
    config_dir: Path,
) -> None:
    log_in(platform_server)

    for args in (
        ("image", "size", "image:no-such-image:1"),
        ("image", "digest", "image:no-such-image:1"),
        ("image", "size", "image:x:BAD TAG"),
        ("push", "no-such-local/image:1"),
        ("pull", "image:no-such-image:1"),
        ("image", "tags", "image:x:1"),  # tags of a repository, not of a tag
        ("pull", "ubuntu:22.04"),  # the token never goes to another registry
    ):
        result = neuro(*args)
        assert result.exit_code != 0, (args, result.output)
        one_line_error(result.stderr)

    # In a process of its own: the fixtures' teardown needs the real engine.
    no_engine = subprocess.run(
        [str(neuro_executable), "push", f"{local_image}:v1"],
        env={**subprocess_env, "NEUROMATION_CONFIG": str(config_dir)}
        | {"DOCKER_HOST": "unix:///nonexistent"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert no_engine.returncode != 0
    assert "Docker engine is not available" in one_line_error(no_engine.stderr)


def test_another_users_namespace_is_refused(
    platform_server: PlatformServer, neuro: NeuroRunner, log_in: LogIn, local_image: str
) -> None:
    log_in(platform_server, "bob")
    result = neuro("push", f"{local_image}:v1", "image:/alice/planted:v1")
    assert result.exit_code != 0
    assert "denied" in one_line_error(result.stderr).lower()


@pytest.mark.registry
def test_docker_push_and_pull_through_the_credential_helper(
    platform_server: PlatformServer,
    neuro: NeuroRunner,
    log_in: LogIn,
    config_dir: Path,
    local_image: str,
    tmp_path: Path,
) -> None:
    log_in(platform_server)
    docker_config = tmp_path / "docker-config"
    configured = neuro("config", "docker", "--docker-config", str(docker_config))
    assert configured.exit_code == 0, configured.output
    host = registry_host(platform_server)
    assert json.loads((docker_config / "config.json").read_text())["credHelpers"] == {host: "neuro"}

    helper_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "DOCKER_CONFIG": str(docker_config),
        "NEUROMATION_CONFIG": str(config_dir),
        "PATH": f"{helper_dir}{os.pathsep}{os.environ['PATH']}",
    }
    remote = f"{host}/alice/{local_image.split('/', 1)[1]}:docker"
    assert docker("tag", f"{local_image}:v1", remote).returncode == 0
    try:
        pushed = docker("push", remote, env=env)
        assert pushed.returncode == 0, pushed.stderr
        tags = neuro("image", "tags", f"image:{local_image.split('/', 1)[1]}")
        assert "docker" in tags.output.split()
        assert docker("rmi", "--no-prune", remote).returncode == 0
        pulled = docker("pull", remote, env=env)
        assert pulled.returncode == 0, pulled.stderr
        assert image_id(remote) == image_id(BUSYBOX)
    finally:
        docker("rmi", "--no-prune", remote)

    helper = str(helper_dir / "docker-credential-neuro")

    def run_helper(action: str, stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [helper, action], input=stdin, capture_output=True, text=True, env=env, check=False
        )

    got = run_helper("get", f"http://{host}\n")
    assert got.returncode == 0, got.stdout
    assert json.loads(got.stdout)["Username"] == "token"
    # Hostile: the token is never handed out for a host that is not our registry.
    other = run_helper("get", "registry.example.com\n")
    assert other.returncode != 0
    assert "Secret" not in other.stdout
    assert run_helper("store", '{"ServerURL": "x", "Username": "u", "Secret": "s"}').returncode
    assert run_helper("erase", f"{host}\n").returncode == 0
    assert json.loads(run_helper("list", "").stdout) == {host: "token"}
