"""`/v2/` on every process of a data dir shared on PostgreSQL (docs/scale-out.md): each runs a
registry of its own on the one storage; an image pushed through one is pulled through the
other, an upload may go on through the other process, and permissions hold on both."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w
import yarl

from neuro_platform.testing.server import ServerProcess, serving

from .client import MANIFEST_V2, RegistryClient

POSTGRES_URL_ENV = "NEURO_TEST_POSTGRES_URL"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get(POSTGRES_URL_ENV), reason="needs PostgreSQL"),
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


@pytest.fixture
def pair(tmp_path: Path, database_url: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two servers on one database and data dir (one of them leads), alice and bob created."""
    data_dir = tmp_path / "platform-data"
    config_file = tmp_path / "platform.toml"
    config = {"server": {"host": "127.0.0.1"}, "database": {"url": database_url}}
    config_file.write_text(tomli_w.dumps(config))
    with (
        serving(tmp_path, "a", data_dir, config_file) as a,
        serving(tmp_path, "b", data_dir, config_file) as b,
    ):
        a.server.create_user("alice", "alice-password")
        a.server.create_user("bob", "bob-password")
        yield a, b


async def _pull(client: RegistryClient, repository: str, tag: str) -> tuple[int, bytes]:
    """The manifest's status and, when it is served, the bytes of its one layer."""
    async with client.session.get(
        client.url(f"{repository}/manifests/{tag}"), headers={"Accept": MANIFEST_V2}
    ) as response:
        if response.status != 200:
            return response.status, b""
        manifest = await response.json(content_type=None)
    digest = manifest["layers"][0]["digest"]
    async with client.session.get(client.url(f"{repository}/blobs/{digest}")) as response:
        assert response.status == 200, await response.text()
        return 200, await response.read()


async def test_an_image_pushed_through_one_process_is_pulled_through_the_other(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = pair
    alice_a, alice_b = RegistryClient(a.server, "alice"), RegistryClient(b.server, "alice")
    bob_a, bob_b = RegistryClient(a.server, "bob"), RegistryClient(b.server, "bob")
    try:
        # Each way round, so that the follower's /v2/ is used for a push and for a pull.
        layers = {"alice/one": os.urandom(2000), "alice/two": os.urandom(2000)}
        await alice_a.push_image("alice/one", "v1", layers["alice/one"])
        await alice_b.push_image("alice/two", "v1", layers["alice/two"])
        assert await _pull(alice_b, "alice/one", "v1") == (200, layers["alice/one"])
        assert await _pull(alice_a, "alice/two", "v1") == (200, layers["alice/two"])

        # Hostile: bob's token pulls none of alice's images, through either process.
        for bob in (bob_a, bob_b):
            for repository in layers:
                status, _ = await _pull(bob, repository, "v1")
                assert status in (401, 403, 404), (bob.base, repository, status)
    finally:
        for client in (alice_a, alice_b, bob_a, bob_b):
            await client.close()


async def test_an_upload_begun_through_one_process_is_finished_through_the_other(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = pair
    alice_a, alice_b = RegistryClient(a.server, "alice"), RegistryClient(b.server, "alice")
    bob_b = RegistryClient(b.server, "bob")
    try:
        first, second = os.urandom(3000), os.urandom(3000)
        data = first + second
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        # Begun on A, its first chunk through A, the second and the end through B.
        async with alice_a.session.post(alice_a.url("alice/split/blobs/uploads/")) as r:
            assert r.status == 202, await r.text()
            location = r.headers["Location"]
        async with alice_a.session.patch(
            yarl.URL(f"{a.server.base_url}{location}", encoded=True),
            data=first,
            headers={"Content-Type": "application/octet-stream"},
        ) as r:
            assert r.status == 202, await r.text()
            location = r.headers["Location"]
        on_b = yarl.URL(f"{b.server.base_url}{location}", encoded=True)
        # Hostile: bob cannot go on with alice's upload through the other process.
        async with bob_b.session.patch(
            on_b, data=b"x", headers={"Content-Type": "application/octet-stream"}
        ) as r:
            assert r.status in (401, 403, 404), await r.text()
        async with alice_b.session.patch(
            on_b, data=second, headers={"Content-Type": "application/octet-stream"}
        ) as r:
            assert r.status == 202, await r.text()
            location = r.headers["Location"]
        put = yarl.URL(f"{b.server.base_url}{location}", encoded=True).update_query(digest=digest)
        async with alice_b.session.put(put) as r:
            assert r.status == 201, await r.text()
        async with alice_a.session.get(alice_a.url(f"alice/split/blobs/{digest}")) as r:
            assert r.status == 200, await r.text()
            assert await r.read() == data
    finally:
        for client in (alice_a, alice_b, bob_b):
            await client.close()
