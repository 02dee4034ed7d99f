"""`/v2/` against a real private docker-registry and the real docker CLI (docs/protocol.md §6)."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
import yarl

from neuro_platform.admin import Admin
from neuro_platform.testing import PlatformServer
from neuro_platform.testing.server import _run_admin

from .client import BUSYBOX, MANIFEST_V2, DockerCli, RegistryClient, basic, registry_host

# Pushes, pulls and listings through the endpoint: docker-registry answers behind it.
pytestmark = pytest.mark.registry


def _unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"


async def test_docker_login_push_pull_through_the_endpoint(
    registry_server: PlatformServer, alice: RegistryClient, docker_cli: DockerCli
) -> None:
    host = registry_host(registry_server)
    name = _unique("busybox")
    ref = f"{host}/alice/{name}:v1"
    docker_cli.login(host, "token", alice.token)
    docker_cli.tag(BUSYBOX, ref)
    assert "digest: sha256:" in docker_cli.ok("push", ref)
    docker_cli.ok("rmi", ref)
    docker_cli.ok("pull", ref)
    assert docker_cli.ok("image", "inspect", "--format", "{{.Id}}", ref) == docker_cli.ok(
        "image", "inspect", "--format", "{{.Id}}", BUSYBOX
    )
    async with alice.session.get(alice.url(f"alice/{name}/tags/list")) as response:
        assert response.status == 200
        assert await response.json() == {"name": f"alice/{name}", "tags": ["v1"]}


async def test_the_platform_user_name_works_as_the_login_too(
    registry_server: PlatformServer, alice: RegistryClient
) -> None:
    async with aiohttp.ClientSession() as session:
        ok = {"Authorization": basic("alice", alice.token)}
        async with session.get(f"{registry_server.base_url}/v2/", headers=ok) as response:
            assert response.status == 200
            assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
        # Alice's token under bob's name is refused, not taken as either.
        wrong = {"Authorization": basic("bob", alice.token)}
        async with session.get(f"{registry_server.base_url}/v2/", headers=wrong) as response:
            assert response.status == 401


async def test_no_bad_or_expired_token_is_401_with_a_basic_challenge(
    registry_server: PlatformServer,
) -> None:
    async def expired(admin: Admin) -> str:
        user = await admin.users.get("alice")
        assert user is not None
        return admin.codec.issue("alice", timedelta(seconds=-60), account_id=user.account_id).token

    expired_token = _run_admin(registry_server.settings(), expired)
    base = registry_server.base_url
    async with aiohttp.ClientSession() as session:
        for headers in (
            {},
            {"Authorization": basic("token", "not-a-jwt")},
            {"Authorization": basic("token", expired_token)},
            {"Authorization": "Basic !!!"},
        ):
            for path in ("/v2/", "/v2/alice/x/manifests/latest", "/v2/_catalog"):
                async with session.get(f"{base}{path}", headers=headers) as response:
                    assert response.status == 401, (path, headers)
                    assert response.headers["WWW-Authenticate"] == 'Basic realm="default"'
                    body = await response.json()
                    assert body["errors"][0]["code"] == "UNAUTHORIZED"
                    assert body["error"]


async def test_docker_login_with_a_bad_token_fails(
    registry_server: PlatformServer, docker_cli: DockerCli
) -> None:
    result = docker_cli.run(
        "login", "-u", "token", "--password-stdin", registry_host(registry_server), stdin="bad"
    )
    assert result.returncode != 0
    assert "401" in result.stderr or "unauthorized" in result.stderr.lower()


async def test_pushing_into_another_users_namespace_is_403(
    registry_server: PlatformServer, alice: RegistryClient, docker_cli: DockerCli
) -> None:
    async with alice.session.post(alice.url("bob/stolen/blobs/uploads/")) as response:
        assert response.status == 403
        assert (await response.json())["errors"][0]["code"] == "DENIED"
    host = registry_host(registry_server)
    ref = f"{host}/bob/{_unique('stolen')}:v1"
    docker_cli.login(host, "token", alice.token)
    docker_cli.tag(BUSYBOX, ref)
    result = docker_cli.run("push", ref)
    assert result.returncode != 0
    assert "denied" in (result.stdout + result.stderr).lower()


async def test_a_second_user_reads_only_after_sharing_and_never_writes(
    registry_server: PlatformServer, alice: RegistryClient, bob: RegistryClient
) -> None:
    name = f"alice/{_unique('shared')}"
    await alice.push_image(name, "v1", os.urandom(64))
    manifest = bob.url(f"{name}/manifests/v1")
    accept = {"Accept": MANIFEST_V2}
    async with bob.session.get(manifest, headers=accept) as response:
        assert response.status == 403
    async with bob.session.get(bob.url("_catalog")) as response:
        assert name not in (await response.json())["repositories"]

    share = [{"uri": f"image://default/{name}", "action": "read"}]
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {alice.token}"}) as session:
        url = registry_server.api_url / "users" / "bob" / "permissions"
        async with session.post(url, json=share) as response:
            assert response.status == 201, await response.text()

    async with bob.session.get(manifest, headers=accept) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == MANIFEST_V2
    async with bob.session.get(bob.url("_catalog")) as response:
        assert name in (await response.json())["repositories"]
    # Read is not write: bob can neither push a tag nor delete one.
    async with bob.session.post(bob.url(f"{name}/blobs/uploads/")) as response:
        assert response.status == 403
    async with bob.session.delete(bob.url(f"{name}/manifests/v1")) as response:
        assert response.status == 403


async def test_catalog_lists_only_readable_repositories_in_pages(
    registry_server: PlatformServer, alice: RegistryClient, bob: RegistryClient
) -> None:
    prefix = _unique("cat")
    names = [f"alice/{prefix}-{i}" for i in range(5)]
    for name in names:
        await alice.push_image(name, "v1", b"layer of " + name.encode())
    hidden = f"bob/{prefix}-hidden"
    await bob.push_image(hidden, "v1", b"bob's layer")

    seen: list[str] = []
    url: yarl.URL | None = alice.url("_catalog?n=2")
    pages = 0
    while url is not None:
        async with alice.session.get(url) as response:
            assert response.status == 200
            page = (await response.json())["repositories"]
            assert len(page) <= 2
            seen.extend(page)
            link = response.headers.get("Link")
        pages += 1
        if link is None:
            url = None
        else:
            # Absolute, on the advertised registry origin, as the SDK follows it verbatim.
            assert link.endswith('>; rel="next"')
            url = yarl.URL(link[1 : link.index(">")])
            assert url.origin() == registry_server.base_url.origin()
    assert pages >= 3
    assert seen == sorted(seen, key=lambda name: name.split("/"))  # the registry's order
    assert [s for s in seen if s.startswith(f"alice/{prefix}")] == names
    assert hidden not in seen
    assert all(not s.startswith("default/") for s in seen)

    async with alice.session.get(alice.url("_catalog?n=0")) as response:
        assert response.status == 400
    async with alice.session.get(alice.url("_catalog?n=abc")) as response:
        assert response.status == 400


async def test_many_repositories_come_in_pages_of_n_through_the_link(
    alice: RegistryClient, bob: RegistryClient
) -> None:
    prefix = _unique("many")
    # Names of one, two and three parts: the registry orders them part by part ("a/b" before
    # "a-b"), and a page's `last` must resume in that order, neither skipping nor repeating.
    names = [f"alice/{prefix}-{i:02}" for i in range(10)]
    names += [f"alice/{prefix}/nested", f"alice/{prefix}-0/nested"]
    for name in names:
        await alice.push_image(name, "v1", b"layer of " + name.encode())
    hidden = [f"bob/{prefix}-{i}" for i in range(3)]
    for name in hidden:
        await bob.push_image(name, "v1", b"layer of " + name.encode())

    seen: list[str] = []
    url: yarl.URL | None = alice.url("_catalog?n=3")
    while url is not None:
        async with alice.session.get(url) as response:
            assert response.status == 200, await response.text()
            page = (await response.json())["repositories"]
            link = response.headers.get("Link")
        assert len(page) == 3 or link is None  # only the last page may be short
        seen.extend(page)
        url = None if link is None else yarl.URL(link[1 : link.index(">")])
    assert seen == sorted(set(seen), key=lambda name: name.split("/"))  # each once, in order
    assert sorted(s for s in seen if prefix in s) == sorted(names)

    # A `last` of another namespace, cluster or shape starts nowhere else: only alice's
    # readable repositories (or none), never a 5xx.
    for last in ("../../other", "bob/", "\x00", "zzz", "x" * 300, f"alice/{prefix}-05"):
        async with alice.session.get(alice.url("_catalog"), params={"last": last}) as response:
            assert response.status == 200, (last, await response.text())
            answer = (await response.json())["repositories"]
        assert not set(answer) & set(hidden)
        assert all(not s.startswith("default/") for s in answer)
    assert answer[:6] == seen[seen.index(f"alice/{prefix}-05") + 1 :][:6]


async def test_tags_list_paginates_with_a_public_link(alice: RegistryClient) -> None:
    name = f"alice/{_unique('tags')}"
    for tag in ("a", "b", "c"):
        await alice.push_image(name, tag, b"same layer")
    async with alice.session.get(alice.url(f"{name}/tags/list?n=2")) as response:
        assert response.status == 200
        assert await response.json() == {"name": name, "tags": ["a", "b"]}
        link = response.headers["Link"]
    next_url = yarl.URL(link[1 : link.index(">")])
    assert next_url.path == f"/v2/{name}/tags/list"
    async with alice.session.get(next_url) as response:
        assert (await response.json())["tags"] == ["c"]


async def test_cross_repository_mount_needs_read_on_the_source(
    alice: RegistryClient, bob: RegistryClient
) -> None:
    secret_repo = f"alice/{_unique('secret')}"
    layer = os.urandom(256)
    await alice.push_image(secret_repo, "v1", layer)
    digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    target = f"bob/{_unique('thief')}"
    for source in (secret_repo, f"default/{secret_repo}", "../" + secret_repo, "Alice/x"):
        url = bob.url(f"{target}/blobs/uploads/?mount={digest}&from={source}")
        async with bob.session.post(url) as response:
            # Not mounted (201): a plain upload starts instead.
            assert response.status == 202, (source, await response.text())
    async with bob.session.head(bob.url(f"{target}/blobs/{digest}")) as response:
        assert response.status == 404
    # Alice may mount her own blob into another of her repositories.
    mine = f"alice/{_unique('copy')}"
    url = alice.url(f"{mine}/blobs/uploads/?mount={digest}&from={secret_repo}")
    async with alice.session.post(url) as response:
        assert response.status == 201
        assert response.headers["Location"] == f"/v2/{mine}/blobs/{digest}"
    async with alice.session.head(alice.url(f"{mine}/blobs/{digest}")) as response:
        assert response.status == 200
        assert response.headers["Content-Length"] == str(len(layer))


async def test_invalid_repository_names_are_refused(
    alice: RegistryClient, bob: RegistryClient
) -> None:
    victim = f"bob/{_unique('victim')}"
    await bob.push_image(victim, "v1", b"bob's")
    for path in (
        "Alice/x/manifests/v1",  # upper case
        "alice/X/manifests/v1",
        "alice/..%2F..%2Fbob/x/manifests/v1",  # an encoded slash
        "alice%2F..%2Fbob/x/manifests/v1",
        "alice/%2E%2E/" + victim + "/manifests/v1",  # an encoded dot-dot
        "alice/x%00/manifests/v1",
        "x/manifests/v1",  # one component: nobody's
        "alice/-x/manifests/v1",
        "alice/" + "a" * 300 + "/manifests/v1",
    ):
        async with alice.session.get(alice.url(path)) as response:
            assert response.status == 400, path
            assert (await response.json())["errors"][0]["code"] == "NAME_INVALID"
    # A literal `..` either fails the name check or is resolved before routing; it never
    # reaches bob's repository with alice's credentials.
    async with alice.session.get(
        alice.url(f"alice/../{victim}/manifests/v1"), headers={"Accept": MANIFEST_V2}
    ) as response:
        assert response.status in (400, 403, 404)
    async with alice.session.get(alice.url("alice/x/nonsense")) as response:
        assert response.status == 404


async def test_deleting_a_manifest_by_digest(alice: RegistryClient) -> None:
    name = f"alice/{_unique('gone')}"
    digest = await alice.push_image(name, "v1", os.urandom(128))
    accept = {"Accept": MANIFEST_V2}
    async with alice.session.head(alice.url(f"{name}/manifests/v1"), headers=accept) as response:
        assert response.headers["Docker-Content-Digest"] == digest
    async with alice.session.delete(alice.url(f"{name}/manifests/{digest}")) as response:
        assert response.status == 202
    async with alice.session.get(alice.url(f"{name}/manifests/v1"), headers=accept) as response:
        assert response.status == 404


async def test_a_chunked_upload_larger_than_the_read_buffer_arrives_intact(
    registry_server: PlatformServer, alice: RegistryClient
) -> None:
    # Forwarded piece by piece (endpoint `_pieces`): the registry checks the digest on PUT,
    # so a piece lost, repeated or reordered is a 400, and the blob read back must match.
    data = os.urandom(5 * 1024 * 1024 + 12345)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    name = f"alice/{_unique('chunked')}"

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 40000):
            yield data[start : start + 40000]

    async with alice.session.post(alice.url(f"{name}/blobs/uploads/")) as response:
        assert response.status == 202
        location = response.headers["Location"]
    patch = yarl.URL(f"{alice.base}{location}", encoded=True)
    async with alice.session.patch(patch, data=pieces()) as response:
        assert response.status == 202, await response.text()
        assert response.headers["Range"] == f"0-{len(data) - 1}"
        location = response.headers["Location"]
    put = yarl.URL(f"{alice.base}{location}", encoded=True).update_query(digest=digest)
    async with alice.session.put(put) as response:
        assert response.status == 201, await response.text()
    async with alice.session.get(alice.url(f"{name}/blobs/{digest}")) as response:
        assert response.status == 200
        assert await response.read() == data
