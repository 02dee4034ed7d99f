"""``client.buckets`` end to end: our server's buckets service with its SeaweedFS, the SDK
talking S3 to it with the credentials the server hands out."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import boto3  # type: ignore[import-untyped]
import pytest
from botocore.exceptions import ClientError
from yarl import URL

import neuro_sdk
from neuro_platform.testing.server import PlatformServer


@pytest.fixture
async def alice(
    buckets_platform_server: PlatformServer, tmp_path: Path
) -> AsyncIterator[neuro_sdk.Client]:
    async with await _client(buckets_platform_server, tmp_path, "alice") as client:
        yield client


@pytest.fixture
async def bob(
    buckets_platform_server: PlatformServer, tmp_path: Path
) -> AsyncIterator[neuro_sdk.Client]:
    async with await _client(buckets_platform_server, tmp_path, "bob") as client:
        yield client


async def _client(server: PlatformServer, tmp_path: Path, user: str) -> neuro_sdk.Client:
    config_dir = tmp_path / f"config-{user}"
    await neuro_sdk.login_with_token(server.issue_token(user), url=server.api_url, path=config_dir)
    return await neuro_sdk.get(path=config_dir)


@pytest.fixture
def name() -> str:
    return f"b-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def local_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "local"
    folder.mkdir()
    return folder


async def test_bucket_create_get_list_rm(alice: neuro_sdk.Client, name: str) -> None:
    created = await alice.buckets.create(name)
    assert created.name == name
    assert created.owner == "alice"
    assert created.uri == URL(f"blob://default/alice/{name}")
    assert (await alice.buckets.get(name)).id == created.id
    assert (await alice.buckets.get(created.id)).name == name
    async with alice.buckets.list() as buckets:
        assert created.id in [b.id async for b in buckets]
    with pytest.raises(neuro_sdk.IllegalArgumentError):
        await alice.buckets.create(name)  # names are unique per owner
    await alice.buckets.rm(name)
    with pytest.raises(neuro_sdk.ResourceNotFound):
        await alice.buckets.get(name)


@pytest.mark.parametrize("bad", ["UPPER", "a", "has_underscore", "x" * 64, "-dash-first"])
async def test_bad_bucket_names_are_refused(alice: neuro_sdk.Client, bad: str) -> None:
    with pytest.raises(neuro_sdk.IllegalArgumentError):
        await alice.buckets.create(bad)


async def test_blobs_by_key_and_by_uri(alice: neuro_sdk.Client, name: str, local_dir: Path) -> None:
    await alice.buckets.create(name)
    await alice.buckets.put_blob(name, "raw/bytes.bin", b"0123456789")
    entry = await alice.buckets.head_blob(name, "raw/bytes.bin")
    assert entry.size == 10
    assert entry.uri == URL(f"blob://default/alice/{name}/raw/bytes.bin")
    async with alice.buckets.fetch_blob(name, "raw/bytes.bin", offset=4) as chunks:
        assert b"".join([c async for c in chunks]) == b"456789"

    data = os.urandom(3 * 1024 * 1024 + 5)
    source = local_dir / "data.bin"
    source.write_bytes(data)
    await alice.buckets.upload_file(URL(source.as_uri()), URL(f"blob:{name}/up/"))
    target = local_dir / "back.bin"
    await alice.buckets.download_file(URL(f"blob:{name}/up/data.bin"), URL(target.as_uri()))
    assert target.read_bytes() == data

    async with alice.buckets.list_blobs(URL(f"blob:{name}/")) as blobs:
        top = sorted([(type(b).__name__, b.key) async for b in blobs])
    assert top == [("BlobCommonPrefix", "raw/"), ("BlobCommonPrefix", "up/")]
    async with alice.buckets.list_blobs(URL(f"blob:{name}"), recursive=True) as blobs:
        assert sorted([b.key async for b in blobs]) == ["raw/bytes.bin", "up/data.bin"]
    assert await alice.buckets.blob_is_dir(URL(f"blob:{name}/up"))
    assert not await alice.buckets.blob_is_dir(URL(f"blob:{name}/up/data.bin"))
    await alice.buckets.delete_blob(name, "raw/bytes.bin")
    with pytest.raises(neuro_sdk.ResourceNotFound):
        await alice.buckets.head_blob(name, "raw/bytes.bin")


async def test_directories_glob_usage_and_rm(
    alice: neuro_sdk.Client, name: str, local_dir: Path
) -> None:
    await alice.buckets.create(name)
    tree = local_dir / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    for relative in ("x.txt", "a/y.txt", "a/b/z.txt", "a/b/w.bin"):
        (tree / relative).write_text(relative)
    events: list[str] = []

    class Progress(neuro_sdk.AbstractRecursiveFileProgress):
        def start(self, data: neuro_sdk.StorageProgressStart) -> None:
            events.append("start")

        def step(self, data: neuro_sdk.StorageProgressStep) -> None:
            pass

        def complete(self, data: neuro_sdk.StorageProgressComplete) -> None:
            events.append("complete")

        def enter(self, data: neuro_sdk.StorageProgressEnterDir) -> None:
            events.append("enter")

        def leave(self, data: neuro_sdk.StorageProgressLeaveDir) -> None:
            events.append("leave")

        def fail(self, data: neuro_sdk.StorageProgressFail) -> None:
            events.append("fail")

    await alice.buckets.upload_dir(
        URL(tree.as_uri()), URL(f"blob:{name}/tree"), progress=Progress()
    )
    assert events.count("complete") == 4
    assert events.count("enter") == events.count("leave") == 3

    async with alice.buckets.glob_blobs(URL(f"blob:{name}/tree/**/*.txt")) as found:
        assert sorted([b.key async for b in found]) == [
            "tree/a/b/z.txt",
            "tree/a/y.txt",
            "tree/x.txt",
        ]
    async with alice.buckets.get_disk_usage(name) as usages:
        usage = [u async for u in usages][-1]
    assert usage.total_bytes == sum(len(r) for r in ("x.txt", "a/y.txt", "a/b/z.txt", "a/b/w.bin"))

    back = local_dir / "back"
    await alice.buckets.download_dir(URL(f"blob:{name}/tree"), URL(back.as_uri()))
    assert (back / "a" / "b" / "z.txt").read_text() == "a/b/z.txt"

    with pytest.raises(IsADirectoryError):
        await alice.buckets.blob_rm(URL(f"blob:{name}/tree"))
    with pytest.raises(FileNotFoundError):
        await alice.buckets.blob_rm(URL(f"blob:{name}/no-such-key"))
    await alice.buckets.blob_rm(URL(f"blob:{name}/tree"), recursive=True)
    async with alice.buckets.list_blobs(URL(f"blob:{name}"), recursive=True) as blobs:
        assert [b async for b in blobs] == []


async def test_signed_url_reads_without_credentials(alice: neuro_sdk.Client, name: str) -> None:
    await alice.buckets.create(name)
    await alice.buckets.put_blob(name, "report.txt", b"signed content")
    url = await alice.buckets.make_signed_url(URL(f"blob:{name}/report.txt"), 600)
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.status == 200
            assert await response.read() == b"signed content"
        tampered = str(url).replace("report.txt", "other.txt")
        async with session.get(URL(tampered, encoded=True)) as response:
            assert response.status == 403


async def test_other_users_get_403_until_shared(
    alice: neuro_sdk.Client, bob: neuro_sdk.Client, name: str
) -> None:
    bucket = await alice.buckets.create(name)
    await alice.buckets.put_blob(name, "x.txt", b"x")
    uri = URL(f"blob://default/alice/{name}/x.txt")
    with pytest.raises(neuro_sdk.AuthorizationError):
        await bob.buckets.head_blob(name, "x.txt", bucket_owner="alice")
    with pytest.raises(neuro_sdk.AuthorizationError):
        await bob.buckets.request_tmp_credentials(bucket.id, bucket_owner="alice")
    await alice.users.share("bob", neuro_sdk.Permission(bucket.uri, neuro_sdk.Action.READ))
    async with bob.buckets.list_blobs(uri.parent) as blobs:
        assert [b.key async for b in blobs] == ["x.txt"]
    # Read is not write: bob's credentials are read-only.
    with pytest.raises(neuro_sdk.AuthorizationError):
        await bob.buckets.put_blob(bucket.id, "y.txt", b"y", bucket_owner="alice")


async def test_persistent_credentials_work_with_boto3_until_removed(
    alice: neuro_sdk.Client, name: str
) -> None:
    bucket = await alice.buckets.create(name)
    await alice.buckets.put_blob(name, "x.txt", b"for boto3")
    created = await alice.buckets.persistent_credentials_create([bucket.id], name=f"c-{name}")
    assert created.credentials[0].bucket_id == bucket.id
    assert (await alice.buckets.persistent_credentials_get(f"c-{name}")).id == created.id
    async with alice.buckets.persistent_credentials_list() as listed:
        assert created.id in [c.id async for c in listed]
    raw = created.credentials[0].credentials
    s3 = boto3.client(
        "s3",
        endpoint_url=raw["endpoint_url"],
        region_name=raw.get("region_name") or "us-east-1",
        aws_access_key_id=raw["access_key_id"],
        aws_secret_access_key=raw["secret_access_key"],
    )
    body = await asyncio.to_thread(
        lambda: s3.get_object(Bucket=raw["bucket_name"], Key="x.txt")["Body"].read()
    )
    assert body == b"for boto3"
    await alice.buckets.persistent_credentials_rm(created.id)
    with pytest.raises(ClientError):
        await asyncio.to_thread(lambda: s3.get_object(Bucket=raw["bucket_name"], Key="x.txt"))


async def test_bad_blob_uris_are_refused(alice: neuro_sdk.Client, name: str) -> None:
    with pytest.raises(neuro_sdk.ResourceNotFound):
        async with alice.buckets.list_blobs(URL(f"blob:{name}-missing/x")) as blobs:
            [b async for b in blobs]
    with pytest.raises(ValueError, match="scheme"):
        await alice.buckets.blob_is_dir(URL("storage:folder"))
    with pytest.raises(ValueError, match="Invalid bucket"):
        await alice.buckets.get("a/b")
