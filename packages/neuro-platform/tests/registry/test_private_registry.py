"""The private registry's lifetime, garbage collection and isolation from jobs."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
from pathlib import Path

import aiohttp
import pytest

from neuro_platform.registry import image_ref_to_uri
from neuro_platform.registry.names import InvalidRepositoryNameError
from neuro_platform.settings import load_settings
from neuro_platform.testing import PlatformServer
from neuro_platform.testing.fixtures import USERS
from neuro_platform.testing.server import running_platform

from .client import MANIFEST_V2, RegistryClient, basic, private_registry_address

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


async def test_a_dead_private_registry_is_restarted(
    registry_server: PlatformServer, alice: RegistryClient
) -> None:
    address = private_registry_address(registry_server)
    config = str(registry_server.data_dir / "registry" / "config.yml")
    pgrep = await asyncio.create_subprocess_exec(
        "pgrep", "-f", f"docker-registry serve {config}", stdout=asyncio.subprocess.PIPE
    )
    pids = (await pgrep.communicate())[0].decode().split()
    assert len(pids) == 1
    os.kill(int(pids[0]), signal.SIGKILL)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        if (
            await _v2_status(registry_server, alice.token) == 200
            and private_registry_address(registry_server) != address
        ):
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


def test_a_container_cannot_reach_the_private_registry(registry_server: PlatformServer) -> None:
    port = private_registry_address(registry_server).rsplit(":", 1)[1]
    gateway = subprocess.run(
        [
            "docker",
            "network",
            "inspect",
            "bridge",
            "--format",
            "{{(index .IPAM.Config 0).Gateway}}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    api_port = registry_server.base_url.port

    def probe(host: str, port: object, name: str) -> str:
        return f"timeout 3 bash -c 'exec 3<>/dev/tcp/{host}/{port}' 2>/dev/null && echo {name}; "

    script = (
        probe(gateway, api_port, "api-ok")
        + probe(gateway, port, "gateway-open")
        + probe("127.0.0.1", port, "loopback-open")
        + "true"
    )
    result = subprocess.run(
        ["docker", "run", "--rm", DEBIAN, "bash", "-c", script],
        capture_output=True,
        text=True,
        check=True,
    )
    # The jobs' API listener on the gateway answers (so the probe itself works) ...
    assert "api-ok" in result.stdout, result.stderr
    # ... but the private registry, bound to the host's loopback, is out of reach.
    assert "gateway-open" not in result.stdout
    assert "loopback-open" not in result.stdout


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
