"""Buckets API (docs/protocol.md §8.4) on a real server and its embedded SeaweedFS: the data
is reached with the handed-out credentials only, and each refusal comes from the store."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from botocore.exceptions import ClientError

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.buckets import api_session, s3_client

NDJSON = "application/x-ndjson"


@pytest.fixture
async def sessions(
    buckets_platform_server: PlatformServer,
) -> AsyncIterator[dict[str, aiohttp.ClientSession]]:
    alice = api_session(buckets_platform_server, "alice")
    bob = api_session(buckets_platform_server, "bob")
    async with alice, bob:
        yield {"alice": alice, "bob": bob}


def _url(server: PlatformServer, *path: str) -> Any:
    url = server.api_url / "buckets"
    for part in path:
        url = url / part
    return url


def _name() -> str:
    return f"b-{uuid.uuid4().hex[:10]}"


async def _create(server: PlatformServer, session: aiohttp.ClientSession) -> dict[str, Any]:
    async with session.post(_url(server, "buckets"), json={"name": _name()}) as response:
        assert response.status == 201, await response.text()
        created: dict[str, Any] = await response.json()
        return created


async def _credentials(
    server: PlatformServer, session: aiohttp.ClientSession, bucket: str, owner: str | None = None
) -> dict[str, Any]:
    params = {"owner": owner} if owner else {}
    url = _url(server, "buckets", bucket, "make_tmp_credentials")
    async with session.post(url, params=params) as response:
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = await response.json()
        return answer


def _denied(action: Any) -> str:
    with pytest.raises(ClientError) as info:
        action()
    return str(info.value.response["Error"]["Code"])


def _anonymous_get(url: str) -> int:
    return _fetch(url)[0]


def _fetch(url: str) -> tuple[int, bytes]:
    """Plain HTTP without any credentials (a browser, curl)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


async def test_create_list_get_and_write_with_tmp_credentials(
    buckets_platform_server: PlatformServer, sessions: dict[str, aiohttp.ClientSession]
) -> None:
    server, alice = buckets_platform_server, sessions["alice"]
    bucket = await _create(server, alice)
    assert bucket["id"].startswith("bucket-")
    assert (bucket["owner"], bucket["provider"], bucket["imported"], bucket["public"]) == (
        "alice",
        "minio",
        False,
        False,
    )
    async with alice.get(_url(server, "buckets"), headers={"Accept": NDJSON}) as response:
        assert response.headers["Content-Type"].startswith(NDJSON)
        lines = [json.loads(line) for line in (await response.text()).splitlines()]
    assert bucket in lines
    for ref in (bucket["name"], bucket["id"]):
        async with alice.get(_url(server, "buckets", ref)) as response:
            assert await response.json() == bucket

    answer = await _credentials(server, alice, bucket["name"])
    assert (answer["bucket_id"], answer["read_only"]) == (bucket["id"], False)
    creds = answer["credentials"]
    s3 = s3_client(creds)
    s3.put_object(Bucket=creds["bucket_name"], Key="dir/hello.txt", Body=b"hello")
    got = s3.get_object(Bucket=creds["bucket_name"], Key="dir/hello.txt")["Body"].read()
    assert got == b"hello"
    # Asked again while it is fresh: the same identity, not one more in the store.
    again = await _credentials(server, alice, bucket["id"])
    assert again["credentials"]["access_key_id"] == creds["access_key_id"]

    path = f"alice/{bucket['name']}/dir/hello.txt"
    async with alice.get(_url(server, "buckets", "find", "by_path"), params={"path": path}) as r:
        assert (await r.json())["id"] == bucket["id"]


async def test_credentials_of_one_bucket_cannot_reach_another(
    buckets_platform_server: PlatformServer, sessions: dict[str, aiohttp.ClientSession]
) -> None:
    server, alice = buckets_platform_server, sessions["alice"]
    a, b = await _create(server, alice), await _create(server, alice)
    creds_a = (await _credentials(server, alice, a["id"]))["credentials"]
    creds_b = (await _credentials(server, alice, b["id"]))["credentials"]
    s3_client(creds_b).put_object(Bucket=creds_b["bucket_name"], Key="secret", Body=b"B")
    s3 = s3_client(creds_a)
    bucket_b = creds_b["bucket_name"]
    assert _denied(lambda: s3.get_object(Bucket=bucket_b, Key="secret")) == "AccessDenied"
    assert _denied(lambda: s3.list_objects_v2(Bucket=bucket_b)) == "AccessDenied"
    assert _denied(lambda: s3.put_object(Bucket=bucket_b, Key="x", Body=b"")) == "AccessDenied"
    assert _denied(lambda: s3.delete_object(Bucket=bucket_b, Key="secret")) == "AccessDenied"
    assert _denied(lambda: s3.create_bucket(Bucket=f"new-{uuid.uuid4().hex[:8]}")) in (
        "AccessDenied",
        "AccessDeniedException",
    )


async def test_second_user_gets_403_until_shared_then_read_only(
    buckets_platform_server: PlatformServer, sessions: dict[str, aiohttp.ClientSession]
) -> None:
    server, alice, bob = buckets_platform_server, sessions["alice"], sessions["bob"]
    bucket = await _create(server, alice)
    creds = (await _credentials(server, alice, bucket["id"]))["credentials"]
    s3_client(creds).put_object(Bucket=creds["bucket_name"], Key="k", Body=b"alice's")

    query = {"owner": "alice"}
    for method, path in [
        ("GET", ("buckets", bucket["name"])),
        ("POST", ("buckets", bucket["name"], "make_tmp_credentials")),
        ("DELETE", ("buckets", bucket["name"])),
        ("PATCH", ("buckets", bucket["name"])),
    ]:
        body = {"public": True} if method == "PATCH" else None
        async with bob.request(method, _url(server, *path), params=query, json=body) as r:
            assert r.status == 403, (method, path, await r.text())
    async with bob.get(_url(server, "buckets")) as response:
        assert bucket["id"] not in await response.text()

    share = [{"uri": f"blob://default/alice/{bucket['name']}", "action": "read"}]
    async with alice.post(server.api_url / "users/bob/permissions", json=share) as response:
        assert response.status == 201
    async with bob.get(_url(server, "buckets", bucket["name"]), params=query) as response:
        assert response.status == 200
    answer = await _credentials(server, bob, bucket["name"], owner="alice")
    assert answer["read_only"] is True
    s3 = s3_client(answer["credentials"])
    name = answer["credentials"]["bucket_name"]
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"alice's"
    assert _denied(lambda: s3.put_object(Bucket=name, Key="k", Body=b"bob's")) == "AccessDenied"
    assert _denied(lambda: s3.delete_object(Bucket=name, Key="k")) == "AccessDenied"
    async with bob.delete(_url(server, "buckets", bucket["name"]), params=query) as response:
        assert response.status == 403


async def test_a_revoked_share_ends_the_readers_credentials_at_once(
    buckets_platform_server: PlatformServer, sessions: dict[str, aiohttp.ClientSession]
) -> None:
    """Not when they expire (up to `tmp_credentials_ttl_s` later): with the revoke's answer.
    Bob's persistent credentials lose alice's bucket and keep his own."""
    server, alice, bob = buckets_platform_server, sessions["alice"], sessions["bob"]
    bucket = await _create(server, alice)
    creds = (await _credentials(server, alice, bucket["id"]))["credentials"]
    s3_client(creds).put_object(Bucket=creds["bucket_name"], Key="k", Body=b"alice's")
    uri = f"blob://default/alice/{bucket['name']}"
    share = [{"uri": uri, "action": "read"}]
    async with alice.post(server.api_url / "users/bob/permissions", json=share) as response:
        assert response.status == 201
    tmp = (await _credentials(server, bob, bucket["name"], owner="alice"))["credentials"]
    own = await _create(server, bob)
    body = {"bucket_ids": [bucket["id"], own["id"]], "read_only": True}
    async with bob.post(_url(server, "persistent_credentials"), json=body) as response:
        assert response.status == 201, await response.text()
        persistent = (await response.json())["credentials"][0]["credentials"]
    name = creds["bucket_name"]
    for given in (tmp, persistent):
        assert s3_client(given).get_object(Bucket=name, Key="k")["Body"].read() == b"alice's"

    url = server.api_url / "users/bob/permissions"
    async with alice.delete(url, params={"uri": uri}) as response:
        assert response.status == 204
    assert _denied(lambda: s3_client(tmp).get_object(Bucket=name, Key="k")) in (
        "InvalidAccessKeyId",
        "AccessDenied",
    )
    kept = s3_client(persistent)
    assert _denied(lambda: kept.get_object(Bucket=name, Key="k")) == "AccessDenied"
    kept.list_objects_v2(Bucket=own["id"])  # his own bucket still opens
    # A share lowered from write to read (a share replaces the grant) ends the write.
    write = [{"uri": uri, "action": "write"}]
    async with alice.post(url, json=write) as response:
        assert response.status == 201
    writer = (await _credentials(server, bob, bucket["name"], owner="alice"))["credentials"]
    s3_client(writer).put_object(Bucket=name, Key="bob", Body=b"bob's")
    async with alice.post(url, json=share) as response:
        assert response.status == 201
    assert _denied(lambda: s3_client(writer).put_object(Bucket=name, Key="bob", Body=b"")) in (
        "InvalidAccessKeyId",
        "AccessDenied",
    )
    # Alice's own credentials are untouched.
    assert s3_client(creds).get_object(Bucket=name, Key="k")["Body"].read() == b"alice's"


async def test_removed_persistent_credentials_stop_working_at_once(
    buckets_platform_server: PlatformServer, sessions: dict[str, aiohttp.ClientSession]
) -> None:
    server, alice = buckets_platform_server, sessions["alice"]
    a, b = await _create(server, alice), await _create(server, alice)
    url = _url(server, "persistent_credentials")
    body = {"name": f"c-{uuid.uuid4().hex[:8]}", "bucket_ids": [a["id"], b["id"]]}
    async with alice.post(url, json=body) as response:
        assert response.status == 201, await response.text()
        created = await response.json()
    assert created["id"].startswith("bucket-credentials-")
    assert {c["bucket_id"] for c in created["credentials"]} == {a["id"], b["id"]}
    async with alice.post(url, json=body) as response:
        assert response.status == 409
    async with alice.get(url, headers={"Accept": NDJSON}) as response:
        assert created["id"] in await response.text()
    async with alice.get(url / body["name"]) as response:
        assert (await response.json())["id"] == created["id"]

    creds = created["credentials"][0]["credentials"]
    s3 = s3_client(creds)
    for item in created["credentials"]:  # one identity, both buckets
        s3.put_object(Bucket=item["credentials"]["bucket_name"], Key="p", Body=b"1")

    async with alice.delete(url / created["id"]) as response:
        assert response.status == 204
    code = _denied(lambda: s3.get_object(Bucket=creds["bucket_name"], Key="p"))
    assert code == "InvalidAccessKeyId"
    async with alice.get(url / created["id"]) as response:
        assert response.status == 404


async def test_read_only_persistent_credentials_cannot_write(
    buckets_platform_server: PlatformServer, sessions: dict[str, aiohttp.ClientSession]
) -> None:
    server, alice = buckets_platform_server, sessions["alice"]
    bucket = await _create(server, alice)
    body = {"bucket_ids": [bucket["id"]], "read_only": True}
    async with alice.post(_url(server, "persistent_credentials"), json=body) as response:
        created = await response.json()
    assert created["read_only"] is True
    creds = created["credentials"][0]["credentials"]
    s3 = s3_client(creds)
    assert s3.list_objects_v2(Bucket=creds["bucket_name"])["KeyCount"] == 0
    code = _denied(lambda: s3.put_object(Bucket=creds["bucket_name"], Key="x", Body=b"x"))
    assert code == "AccessDenied"


async def test_signed_url_works_with_plain_http_then_expires(
    buckets_platform_server: PlatformServer, sessions: dict[str, aiohttp.ClientSession]
) -> None:
    server, alice, bob = buckets_platform_server, sessions["alice"], sessions["bob"]
    bucket = await _create(server, alice)
    creds = (await _credentials(server, alice, bucket["id"]))["credentials"]
    s3_client(creds).put_object(Bucket=creds["bucket_name"], Key="a/b.txt", Body=b"signed")
    sign = _url(server, "buckets", bucket["id"], "sign_blob_url")
    async with alice.post(sign, params={"owner": "alice"}, json={"key": "a/b.txt"}) as r:
        url = (await r.json())["url"]
    assert _fetch(url) == (200, b"signed")
    async with alice.post(sign, json={"key": "a/b.txt", "expires_in_sec": 1}) as response:
        short = (await response.json())["url"]
    # Past its expiry (one second, and S3 counts whole seconds) the store refuses it.
    await asyncio.sleep(2.5)
    assert _anonymous_get(short) == 403
    for bad in (0, -5, 8 * 24 * 3600):
        async with alice.post(sign, json={"key": "k", "expires_in_sec": bad}) as response:
            assert response.status == 400
    async with bob.post(sign, params={"owner": "alice"}, json={"key": "a/b.txt"}) as response:
        assert response.status == 403


async def test_public_bucket_is_readable_anonymously_private_is_not(
    buckets_platform_server: PlatformServer, sessions: dict[str, aiohttp.ClientSession]
) -> None:
    server, alice = buckets_platform_server, sessions["alice"]
    public, private = await _create(server, alice), await _create(server, alice)
    objects = {}
    for bucket in (public, private):
        creds = (await _credentials(server, alice, bucket["id"]))["credentials"]
        s3_client(creds).put_object(Bucket=creds["bucket_name"], Key="o", Body=b"open")
        objects[bucket["id"]] = f"{creds['endpoint_url']}/{creds['bucket_name']}/o"
    async with alice.patch(_url(server, "buckets", public["id"]), json={"public": True}) as r:
        assert (await r.json())["public"] is True
    assert _anonymous_get(objects[public["id"]]) == 200
    assert _anonymous_get(objects[private["id"]]) == 403
    async with alice.patch(_url(server, "buckets", public["id"]), json={"public": False}) as r:
        assert (await r.json())["public"] is False
    assert _anonymous_get(objects[public["id"]]) == 403


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "UPPER",
        "under_score",
        "-dash",
        "dash-",
        "dot..dot",
        "192.168.1.1",
        "a" * 64,
        "xn--punycode",
        "bucket-0b3c2f9e-1d2a-4c5b-9e8f-0123456789ab",
        "sp ace",
        "ünï",
    ],
)
async def test_bad_bucket_names_are_400(
    buckets_platform_server: PlatformServer,
    sessions: dict[str, aiohttp.ClientSession],
    name: str,
) -> None:
    async with sessions["alice"].post(
        _url(buckets_platform_server, "buckets"), json={"name": name}
    ) as response:
        assert response.status == 400
        assert "error" in await response.json()


async def test_missing_taken_and_non_empty(
    buckets_platform_server: PlatformServer, sessions: dict[str, aiohttp.ClientSession]
) -> None:
    server, alice = buckets_platform_server, sessions["alice"]
    for method in ("GET", "DELETE"):
        async with alice.request(method, _url(server, "buckets", "no-such-bucket")) as r:
            assert r.status == 404
    bucket = await _create(server, alice)
    async with alice.post(_url(server, "buckets"), json={"name": bucket["name"]}) as response:
        assert response.status == 409
        assert (await response.json())["code"] == "unique"
    creds = (await _credentials(server, alice, bucket["id"]))["credentials"]
    s3 = s3_client(creds)
    s3.put_object(Bucket=creds["bucket_name"], Key="keep", Body=b"1")
    async with alice.delete(_url(server, "buckets", bucket["id"])) as response:
        assert response.status == 409
        assert (await response.json())["code"] == "not_empty"
    s3.delete_object(Bucket=creds["bucket_name"], Key="keep")
    async with alice.delete(_url(server, "buckets", bucket["id"])) as response:
        assert response.status == 204
    async with alice.get(_url(server, "buckets", bucket["id"])) as response:
        assert response.status == 404
    # Its credentials went with it.
    code = _denied(lambda: s3.list_objects_v2(Bucket=creds["bucket_name"]))
    assert code in ("InvalidAccessKeyId", "NoSuchBucket")


async def test_import_external_checks_the_credentials(
    buckets_platform_server: PlatformServer, sessions: dict[str, aiohttp.ClientSession]
) -> None:
    """The embedded store stands in for another S3 endpoint; the import's credentials are
    persistent credentials of one of alice's buckets."""
    server, alice = buckets_platform_server, sessions["alice"]
    source = await _create(server, alice)
    async with alice.post(
        _url(server, "persistent_credentials"), json={"bucket_ids": [source["id"]]}
    ) as response:
        given = (await response.json())["credentials"][0]["credentials"]
    external = {
        "endpoint_url": given["endpoint_url"],
        "access_key_id": given["access_key_id"],
        "secret_access_key": given["secret_access_key"],
    }
    body = {
        "name": _name(),
        "provider": "aws",
        "provider_bucket_name": given["bucket_name"],
        "credentials": {**external, "secret_access_key": "wrong"},
    }
    url = _url(server, "buckets", "import", "external")
    async with alice.post(url, json=body) as response:
        assert response.status == 400
        assert "do not open" in (await response.json())["error"]
    async with alice.post(url, json={**body, "provider_bucket_name": "nope-none"}) as response:
        assert response.status == 400
    async with alice.post(url, json={**body, "credentials": external}) as response:
        assert response.status == 201, await response.text()
        imported = await response.json()
    assert imported["imported"] is True
    answer = await _credentials(server, alice, imported["id"])
    assert answer["credentials"]["bucket_name"] == given["bucket_name"]
    # Stored encrypted: the secret is not in the database file.
    database = (server.data_dir / "platform.db").read_bytes()
    wal = server.data_dir / "platform.db-wal"
    stored = database + (wal.read_bytes() if wal.exists() else b"")
    assert given["secret_access_key"].encode() not in stored
