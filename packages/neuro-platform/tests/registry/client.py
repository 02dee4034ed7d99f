"""Raw registry clients, a throwaway docker CLI, and where a server keeps its registry."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import aiohttp
import yarl

from neuro_platform.testing import PlatformServer

BUSYBOX = "neuro-base/busybox:latest"
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def registry_host(server: PlatformServer) -> str:
    return f"{server.base_url.host}:{server.base_url.port}"


def private_registry_socket(server: PlatformServer) -> Path:
    """Where the private registry listens, from the config the server wrote."""
    config = (server.data_dir / "registry" / "config.yml").read_text()
    assert 'net: "unix"' in config, config
    match = re.search(r'addr: "([^"]+)"', config)
    assert match is not None, config
    return Path(match[1])


def private_registry_pids(server: PlatformServer) -> list[int]:
    """The pids of the server's `docker-registry serve` (one while it runs)."""
    config = server.data_dir / "registry" / "config.yml"
    pgrep = subprocess.run(
        ["pgrep", "-f", f"docker-registry serve {config}"], capture_output=True, text=True
    )
    return [int(pid) for pid in pgrep.stdout.split()]


def basic(user: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


class RegistryClient:
    """Raw registry v2 calls as `user`, for what docker does not let a test aim at."""

    def __init__(self, server: PlatformServer, user: str) -> None:
        self.base = server.base_url
        self.token = server.issue_token(user)
        self.session = aiohttp.ClientSession(headers={"Authorization": basic("token", self.token)})

    def url(self, path: str) -> yarl.URL:
        return yarl.URL(f"{self.base}/v2/{path}", encoded=True)

    async def push_blob(self, repository: str, data: bytes) -> str:
        """Monolithic upload (POST, then PUT with the digest); returns the digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        async with self.session.post(self.url(f"{repository}/blobs/uploads/")) as response:
            assert response.status == 202, await response.text()
            location = response.headers["Location"]
        put = yarl.URL(f"{self.base}{location}", encoded=True).update_query(digest=digest)
        async with self.session.put(
            put, data=data, headers={"Content-Type": "application/octet-stream"}
        ) as response:
            assert response.status == 201, await response.text()
        return digest

    async def push_image(self, repository: str, tag: str, layer: bytes) -> str:
        """A one-layer image made of `layer`; returns the manifest's digest."""
        config = json.dumps({"architecture": "amd64", "os": "linux", "n": tag}).encode()
        config_digest = await self.push_blob(repository, config)
        layer_digest = await self.push_blob(repository, layer)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_V2,
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": len(config),
                    "digest": config_digest,
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "size": len(layer),
                        "digest": layer_digest,
                    }
                ],
            }
        ).encode()
        async with self.session.put(
            self.url(f"{repository}/manifests/{tag}"),
            data=manifest,
            headers={"Content-Type": MANIFEST_V2},
        ) as response:
            assert response.status == 201, await response.text()
            return response.headers["Docker-Content-Digest"]

    async def close(self) -> None:
        await self.session.close()


class DockerCli:
    """The docker CLI with a config dir of its own (never root's ~/.docker); removes the
    tags it made when the test ends."""

    def __init__(self, config_dir: Path) -> None:
        self.env = {**os.environ, "DOCKER_CONFIG": str(config_dir)}
        self.tags: list[str] = []

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", *args], input=stdin, capture_output=True, text=True, env=self.env
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, f"docker {' '.join(args)}: {result.stderr}"
        return result.stdout

    def login(self, host: str, user: str, token: str) -> None:
        self.ok("login", "-u", user, "--password-stdin", host, stdin=token)

    def tag(self, source: str, target: str) -> None:
        self.ok("tag", source, target)
        self.tags.append(target)

    def cleanup(self) -> None:
        for tag in self.tags:
            self.run("rmi", tag)
