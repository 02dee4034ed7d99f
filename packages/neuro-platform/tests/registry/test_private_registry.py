"""The private registry's lifetime, garbage collection and isolation from jobs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

import aiohttp
import pytest

from neuro_platform.orchestrator import DockerOrchestrator
from neuro_platform.registry import image_ref_to_uri
from neuro_platform.registry.names import InvalidRepositoryNameError
from neuro_platform.registry.private import (
    PrivateRegistry,
    RegistryFiles,
    RegistryUnavailableError,
)
from neuro_platform.settings import load_settings
from neuro_platform.testing import PlatformServer
from neuro_platform.testing.fixtures import USERS
from neuro_platform.testing.server import running_platform

from .client import (
    MANIFEST_V2,
    RegistryClient,
    basic,
    private_registry_pids,
    private_registry_socket,
)

POLL_S = 0.1
DEBIAN = "neuro-base/debian:bookworm"


def _blob_file(server: PlatformServer, digest: str) -> Path:
    algorithm, hex_digest = digest.split(":")
    return (
        server.data_dir
        / "registry/storage/docker/registry/v2/blobs"
        / algorithm
        / hex_digest[:2]
        / hex_digest
        / "data"
    )


async def _v2_status(server: PlatformServer, token: str) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{server.base_url}/v2/", headers={"Authorization": basic("token", token)}
        ) as response,
    ):
        return response.status


@pytest.mark.registry
async def test_gc_frees_the_blobs_of_a_deleted_manifest_online_and_offline(
    tmp_path: Path,
) -> None:
    with running_platform(tmp_path, users=USERS) as server:
        alice = RegistryClient(server, "alice")
        try:
            kept_layer, dropped_layer = os.urandom(1000), os.urandom(1000)
            await alice.push_image("alice/kept", "v1", kept_layer)
            digest = await alice.push_image("alice/dropped", "v1", dropped_layer)
            dropped_blob = _blob_file(server, "sha256:" + hashlib.sha256(dropped_layer).hexdigest())
            kept_blob = _blob_file(server, "sha256:" + hashlib.sha256(kept_layer).hexdigest())
            assert dropped_blob.exists()
            assert kept_blob.exists()
            async with alice.session.delete(alice.url(f"alice/dropped/manifests/{digest}")) as r:
                assert r.status == 202
            # While the server runs, the admin command asks it to collect.
            output = server.admin("registry", "gc")
            assert "2 blobs and 0 manifests eligible for deletion" in output, output
            assert not dropped_blob.exists()
            assert kept_blob.exists()
            # The registry serves again afterwards.
            async with alice.session.head(
                alice.url("alice/kept/manifests/v1"), headers={"Accept": MANIFEST_V2}
            ) as response:
                assert response.status == 200
            again = await alice.push_image("alice/dropped", "v2", dropped_layer)
            async with alice.session.delete(alice.url(f"alice/dropped/manifests/{again}")) as r:
                assert r.status == 202
        finally:
            await alice.close()
    # With no server running, the command collects by itself.
    assert dropped_blob.exists()
    assert "eligible for deletion" in server.admin("registry", "gc")
    assert not dropped_blob.exists()
    assert kept_blob.exists()


@pytest.mark.registry
async def test_a_dead_private_registry_is_restarted(
    registry_server: PlatformServer, alice: RegistryClient
) -> None:
    pids = private_registry_pids(registry_server)
    assert len(pids) == 1
    os.kill(pids[0], signal.SIGKILL)
    # The killed registry leaves its socket file behind; the new one must listen anyway.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        restarted = private_registry_pids(registry_server) not in ([], pids)
        if restarted and await _v2_status(registry_server, alice.token) == 200:
            break
        await asyncio.sleep(POLL_S)
    async with alice.session.get(alice.url("_catalog")) as response:
        assert response.status == 200


async def test_without_docker_registry_v2_is_503_and_the_rest_works(tmp_path: Path) -> None:
    config = {"registry": {"binary": "no-such-docker-registry"}}
    with running_platform(tmp_path, users=USERS, config=config) as server:
        token = server.issue_token("alice")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{server.base_url}/v2/") as response:
                assert response.status == 401
            headers = {"Authorization": basic("token", token)}
            for path in ("/v2/", "/v2/_catalog", "/v2/alice/x/manifests/v1"):
                async with session.get(f"{server.base_url}{path}", headers=headers) as response:
                    assert response.status == 503
                    assert "not installed" in (await response.json())["error"]
            async with session.get(server.api_url / "ping") as response:
                assert response.status == 200


@pytest.mark.registry
@pytest.mark.docker
async def _engine_gateway(server: PlatformServer) -> str | None:
    """Where the server's jobs listener is: the question the server asked at its start (the
    engine may leave the gateway out of the bridge's description)."""
    settings = server.settings()
    async with DockerOrchestrator(
        instance=settings.orchestrator_instance, docker_url=settings.jobs.docker_url
    ) as engine:
        return await engine.default_gateway()


def test_a_container_cannot_reach_the_private_registry(registry_server: PlatformServer) -> None:
    socket_path = private_registry_socket(registry_server)
    gateway = asyncio.run(_engine_gateway(registry_server))
    assert gateway is not None
    api_port = registry_server.base_url.port
    script = (
        f"timeout 3 bash -c 'exec 3<>/dev/tcp/{gateway}/{api_port}' 2>/dev/null && echo api-ok; "
        f"test -e {socket_path} && echo socket-visible; "
        f"test -e {socket_path.parent} && echo registry-dir-visible; "
        "true"
    )
    result = subprocess.run(
        ["docker", "run", "--rm", DEBIAN, "bash", "-c", script],
        capture_output=True,
        text=True,
        check=True,
    )
    # The jobs' API listener on the gateway answers (so the probe itself works) ...
    assert "api-ok" in result.stdout, result.stderr
    # ... but the private registry has no port (see the test below) and its socket is
    # outside every container's file system.
    assert "socket-visible" not in result.stdout
    assert "registry-dir-visible" not in result.stdout


_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
# Prints `connected` or the errno's name; a path is a unix socket, a number a loopback port.
_CONNECT = """
import errno, socket, sys
target = sys.argv[1]
unix = target.startswith("/")
s = socket.socket(socket.AF_UNIX if unix else socket.AF_INET)
try:
    s.connect(target if unix else ("127.0.0.1", int(target)))
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
else:
    print("connected")
"""


def _connect_as_nobody(target: str) -> str:
    # The system python: the test's venv need not be readable by another user.
    result = subprocess.run(
        [*_NOBODY, "/usr/bin/python3", "-c", _CONNECT, target],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target.removeprefix("socket:[").removesuffix("]"))
    return inodes


def _listening_tcp_inodes() -> set[str]:
    """What `ss -ltn` lists, as socket inodes (/proc/net/tcp{,6}: state 0A is LISTEN)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":
                inodes.add(fields[9])
    return inodes


def _unix_socket_inodes(path: Path) -> set[str]:
    inodes = set()
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[7] == str(path):
            inodes.add(fields[6])
    return inodes


@pytest.mark.registry
def test_another_local_user_cannot_reach_the_private_registry() -> None:
    # Everything above the registry's directory is open to other users here (the platform
    # makes its data dir 0700; an operator may have loosened it): only the registry
    # directory's own mode stands between another uid and the unauthenticated registry.
    root = Path(tempfile.mkdtemp(prefix="neuro-registry-socket-"))
    try:
        os.chmod(root, 0o711)
        with running_platform(root, users=USERS) as server:
            os.chmod(server.data_dir, 0o711)
            socket_path = private_registry_socket(server)
            assert socket_path.parent == server.data_dir / "registry"
            assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700
            [pid] = private_registry_pids(server)
            held = _socket_inodes(pid)
            # The registry listens on its unix socket and on no TCP port at all.
            assert held & _unix_socket_inodes(socket_path)
            assert not held & _listening_tcp_inodes()
            # Another uid connects to the platform's port (the probe works) ...
            assert _connect_as_nobody(str(server.base_url.port)) == "connected"
            # ... but not to the registry's socket.
            assert _connect_as_nobody(str(socket_path)) == "EACCES"
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.registry
def test_a_loose_registry_directory_is_narrowed_and_a_long_socket_path_is_unavailable(
    tmp_path: Path,
) -> None:
    files = RegistryFiles(tmp_path / "registry")
    files.root.mkdir(mode=0o755)
    os.chmod(files.root, 0o755)
    files.write_config()
    assert stat.S_IMODE(files.root.stat().st_mode) == 0o700
    assert f"addr: {json.dumps(str(files.socket))}" in files.config.read_text()
    # A socket path the kernel cannot bind is a clear "not available", not a crash.
    deep = RegistryFiles(tmp_path / ("d" * 100) / "registry")
    with pytest.raises(RegistryUnavailableError, match="shorter data dir"):
        PrivateRegistry(deep, "docker-registry").check_available()


def test_image_references_on_our_registry_parse_to_uris(tmp_path: Path) -> None:
    config = tmp_path / "platform.toml"
    config.write_text(
        "[server]\nport = 8080\n"
        '[[clusters]]\nname = "main"\norgs = ["NO_ORG", "acme"]\n'
        '[[clusters.presets]]\nname = "s"\ncpu = 1\nmemory = 1073741824\n'
        '[[clusters]]\nname = "cloud"\nregistry_url = "https://registry.example.org"\n'
        '[[clusters.presets]]\nname = "s"\ncpu = 1\nmemory = 1073741824\n'
    )
    settings = load_settings(config, env={})
    ref = image_ref_to_uri("127.0.0.1:8080/alice/img:v1", settings)
    assert ref is not None
    assert (ref.cluster, ref.repository, ref.tag, ref.digest) == ("main", "alice/img", "v1", None)
    assert ref.uri == "image://main/alice/img"
    org = image_ref_to_uri("registry.example.org/acme/alice/img@sha256:" + "a" * 64, settings)
    assert org is not None
    assert (org.cluster, org.repository, org.tag) == ("cloud", "acme/alice/img", None)
    assert image_ref_to_uri("registry.example.org:443/alice/img", settings) is not None
    for foreign in ("ubuntu:22.04", "docker.io/library/ubuntu", "127.0.0.1:5000/alice/img"):
        assert image_ref_to_uri(foreign, settings) is None
    for bad in ("127.0.0.1:8080/Alice/img", "127.0.0.1:8080/img", "127.0.0.1:8080/a/../b"):
        with pytest.raises(InvalidRepositoryNameError):
            image_ref_to_uri(bad, settings)
