"""The SDK's S3 layer against a real SeaweedFS: multipart, ranged parallel downloads,
credentials refreshed before expiry, errors, and directory transfers (small part sizes so
the multi-part paths run on megabytes)."""

import asyncio
import hashlib
import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSRequest

import neuro_sdk
from neuro_sdk._buckets_entities import BucketCredentials, BucketEntry
from neuro_sdk._buckets_s3 import S3Bucket, S3Sessions, TransferSizes
from neuro_sdk._buckets_signing import THREAD_HASH_MIN, _hash_body
from neuro_sdk._buckets_transfer import download_file, download_tree, upload_tree
from neuro_sdk._transfer import NO_PROGRESS

from .conftest import READER_KEY, READER_SECRET, SeaweedS3, make_bucket

MIB = 1024 * 1024
SMALL_PARTS = TransferSizes(part_size=5 * MIB, concurrency=3, files_concurrency=4)


class Recorder(neuro_sdk.AbstractRecursiveFileProgress):
    def __init__(self) -> None:
        self.events: list[object] = []

    def start(self, data: neuro_sdk.StorageProgressStart) -> None:
        self.events.append(data)

    def step(self, data: neuro_sdk.StorageProgressStep) -> None:
        self.events.append(data)

    def complete(self, data: neuro_sdk.StorageProgressComplete) -> None:
        self.events.append(data)

    def enter(self, data: neuro_sdk.StorageProgressEnterDir) -> None:
        self.events.append(data)

    def leave(self, data: neuro_sdk.StorageProgressLeaveDir) -> None:
        self.events.append(data)

    def fail(self, data: neuro_sdk.StorageProgressFail) -> None:
        self.events.append(data)


OpenS3 = Callable[..., Awaitable[S3Bucket]]


@pytest.fixture
async def open_s3(seaweed: SeaweedS3, s3_bucket: str) -> AsyncIterator[OpenS3]:
    sessions: list[S3Sessions] = []

    async def open_(
        fetch: Callable[[], Awaitable[BucketCredentials]] | None = None,
        sizes: TransferSizes = SMALL_PARTS,
    ) -> S3Bucket:
        async def admin() -> BucketCredentials:
            return seaweed.credentials(s3_bucket)

        session = S3Sessions(sizes)
        sessions.append(session)
        return await session.get(make_bucket(), fetch or admin)

    yield open_
    for session in sessions:
        await session.close()


async def test_big_files_travel_in_parts_and_come_back_identical(
    open_s3: OpenS3, tmp_path: Path
) -> None:
    s3 = await open_s3()
    data = os.urandom(17 * MIB + 123)  # four parts, the last one short
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    sent: list[int] = []
    await s3.put_file("dir/big.bin", source, len(data), sent.append)
    assert sorted(sent) == sorted([5 * MIB] * 3 + [2 * MIB + 123])
    assert (await s3.head("dir/big.bin")).size == len(data)

    target = tmp_path / "back.bin"
    recorder = Recorder()
    entry = await s3.head("dir/big.bin")
    await download_file(s3, entry, target, update=False, continue_=False, progress=recorder)
    assert target.read_bytes() == data
    steps = [e for e in recorder.events if isinstance(e, neuro_sdk.StorageProgressStep)]
    assert [s.current for s in steps][-1] == len(data)
    assert [s.current for s in steps] == sorted(s.current for s in steps)


async def test_big_bodies_are_signed_with_a_sha256_made_in_a_thread(
    open_s3: OpenS3, tmp_path: Path
) -> None:
    """Each part's SigV4 payload hash is the one `_buckets_signing` made off the event loop
    (docs/protocol.md §8.4: plain HTTP signs every body), and it is the body's true SHA-256:
    the store, which checks it, takes the upload."""
    s3 = await open_s3()
    data = os.urandom(11 * MIB)  # three parts of SMALL_PARTS
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    signed: list[tuple[str, str | None]] = []

    def record(request: Any, **kwargs: Any) -> None:
        header = request.headers["X-Amz-Content-SHA256"]
        signed.append((_text(header), request.context.get("neuro_sdk.payload_sha256")))

    s3._client.meta.events.register("before-send.s3.UploadPart", record)
    await s3.put_file("signed.bin", source, len(data), lambda _: None)
    parts = [data[i : i + 5 * MIB] for i in range(0, len(data), 5 * MIB)]
    assert sorted(signed) == sorted((hashlib.sha256(p).hexdigest(),) * 2 for p in parts)
    assert await _read(s3, "signed.bin") == data


async def test_the_embedded_store_does_not_check_the_signed_payload_hash(
    open_s3: OpenS3,
) -> None:
    """Pins a limit docs/security.md ("Buckets") states: SeaweedFS takes a body whose
    SHA-256 differs from the signed `X-Amz-Content-SHA256`, so over plain HTTP the body's
    integrity rests on the network path, not on the signature. When this fails, SeaweedFS
    checks the hash: update that section."""
    s3 = await open_s3()

    def tamper(request: Any, **kwargs: Any) -> None:
        request.context["neuro_sdk.payload_sha256"] = hashlib.sha256(b"other").hexdigest()

    # After `_buckets_signing`'s own handler (same event, registered last).
    s3._client.meta.events.register_last("before-sign.s3", tamper)
    body = os.urandom(MIB)
    await s3.put("tampered.bin", body)
    assert await _read(s3, "tampered.bin") == body


def test_the_thread_hashes_what_botocore_would_from_the_body_position() -> None:
    """A body already read in part (botocore hashes from its position on) and small bodies
    (hashed inline by botocore itself, no digest left)."""
    data = os.urandom(THREAD_HASH_MIN + 10)
    body = io.BytesIO(data)
    body.seek(10)
    request = AWSRequest(method="PUT", url="http://s3.test/b/k", data=body)
    asyncio.run(_hash_body(request))
    assert request.context["neuro_sdk.payload_sha256"] == hashlib.sha256(data[10:]).hexdigest()
    assert body.tell() == 10
    small = AWSRequest(method="PUT", url="http://s3.test/b/k", data=io.BytesIO(b"x" * 100))
    small.context["neuro_sdk.payload_sha256"] = "left over from an earlier attempt"
    asyncio.run(_hash_body(small))
    assert "neuro_sdk.payload_sha256" not in small.context


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def _read(s3: S3Bucket, key: str) -> bytes:
    async with s3.fetch(key) as chunks:
        return b"".join([chunk async for chunk in chunks])


async def test_continue_downloads_only_the_missing_tail(open_s3: OpenS3, tmp_path: Path) -> None:
    s3 = await open_s3()
    data = os.urandom(12 * MIB)
    await s3.put_stream("blob.bin", _chunks(data))
    entry = await s3.head("blob.bin")
    target = tmp_path / "blob.bin"
    # A partial local copy whose tail is garbage the size of the rest: only a download
    # from the local end (not a fresh one) leaves the first 7 MiB as they were.
    target.write_bytes(data[: 7 * MIB])
    recorder = Recorder()
    await download_file(s3, entry, target, update=False, continue_=True, progress=recorder)
    assert target.read_bytes() == data
    start = next(e for e in recorder.events if isinstance(e, neuro_sdk.StorageProgressStep))
    assert start.current > 7 * MIB  # the first step already counts the kept bytes


async def test_a_stream_above_a_part_goes_multipart(open_s3: OpenS3) -> None:
    s3 = await open_s3()
    data = os.urandom(11 * MIB + 7)
    await s3.put_stream("streamed", _chunks(data, 1 * MIB))
    async with s3.fetch("streamed", offset=10 * MIB) as chunks:
        tail = b"".join([chunk async for chunk in chunks])
    assert tail == data[10 * MIB :]


async def test_credentials_are_refreshed_before_they_expire(
    seaweed: SeaweedS3, s3_bucket: str, open_s3: OpenS3
) -> None:
    calls = 0

    async def fetch() -> BucketCredentials:
        # The first credentials are wrong and about to expire; only fresh ones work.
        nonlocal calls
        calls += 1
        if calls == 1:
            return seaweed.credentials(
                s3_bucket,
                secret="wrong-secret",
                expiration=datetime.now(UTC) + timedelta(seconds=5),
            )
        return seaweed.credentials(s3_bucket, expiration=datetime.now(UTC) + timedelta(hours=1))

    s3 = await open_s3(fetch)
    await s3.put("fresh.txt", b"signed with fresh credentials")
    assert (await s3.head("fresh.txt")).size == 29
    assert calls == 2


async def test_wrong_credentials_are_refused(
    seaweed: SeaweedS3, s3_bucket: str, open_s3: OpenS3
) -> None:
    async def wrong() -> BucketCredentials:
        return seaweed.credentials(s3_bucket, secret="not-the-secret")

    s3 = await open_s3(wrong)
    with pytest.raises(neuro_sdk.AuthorizationError):
        await s3.put("x", b"data")


async def test_read_only_credentials_cannot_write(
    seaweed: SeaweedS3, s3_bucket: str, open_s3: OpenS3
) -> None:
    async def reader() -> BucketCredentials:
        return seaweed.credentials(s3_bucket, key=READER_KEY, secret=READER_SECRET)

    s3 = await open_s3(reader)
    assert [e async for e in s3.listing("", recursive=True)] == []
    with pytest.raises(neuro_sdk.AuthorizationError):
        await s3.put("x", b"data")


async def test_a_missing_blob_is_not_found(open_s3: OpenS3) -> None:
    s3 = await open_s3()
    with pytest.raises(neuro_sdk.ResourceNotFound):
        await s3.head("missing")
    with pytest.raises(neuro_sdk.ResourceNotFound):
        async with s3.fetch("missing"):
            pass


async def test_listing_groups_folders_unless_recursive(open_s3: OpenS3) -> None:
    s3 = await open_s3()
    for key in ("a/1.txt", "a/b/2.txt", "top.txt", "empty/"):
        await s3.put(key, b"" if key.endswith("/") else b"x")
    flat = [(type(e).__name__, e.key) async for e in s3.listing("", recursive=False)]
    assert flat == [
        ("BlobCommonPrefix", "a/"),
        ("BlobCommonPrefix", "empty/"),
        ("BlobObject", "top.txt"),
    ]
    deep = [e.key async for e in s3.listing("a/", recursive=True)]
    assert deep == ["a/1.txt", "a/b/2.txt"]
    assert [e.key async for e in s3.listing("", recursive=True, limit=2)] == [
        "a/1.txt",
        "a/b/2.txt",
    ]
    assert await s3.is_dir("a")
    assert await s3.is_dir("empty")
    assert not await s3.is_dir("top.txt")


async def test_directory_round_trip_with_filters_and_empty_dirs(
    open_s3: OpenS3, tmp_path: Path
) -> None:
    s3 = await open_s3()
    source = tmp_path / "src"
    (source / "sub" / "deeper").mkdir(parents=True)
    (source / "empty").mkdir()
    files = {
        "a.txt": b"a",
        "skip.log": b"log",
        "sub/b.bin": os.urandom(6 * MIB),  # multipart inside a tree
        "sub/deeper/c.txt": b"c",
    }
    for name, content in files.items():
        (source / name).write_bytes(content)
    (source / ".neuroignore").write_text("*.log\n")

    async def no_deeper(relative: str) -> bool:
        return relative != "sub/deeper"

    await upload_tree(
        s3,
        source,
        "up/",
        update=False,
        filter=None,
        ignore_file_names=frozenset({".neuroignore"}),
        progress=NO_PROGRESS,
    )
    keys = [e.key async for e in s3.listing("up/", recursive=True)]
    assert "up/skip.log" not in keys
    assert {"up/", "up/empty/", "up/a.txt", "up/sub/b.bin", "up/sub/deeper/c.txt"} <= set(keys)

    target = tmp_path / "back"
    await download_tree(
        s3, "up/", target, update=False, continue_=False, filter=no_deeper, progress=NO_PROGRESS
    )
    assert (target / "a.txt").read_bytes() == b"a"
    assert (target / "sub" / "b.bin").read_bytes() == files["sub/b.bin"]
    assert (target / "empty").is_dir()
    assert not (target / "sub" / "deeper").exists()


async def test_update_skips_what_is_newer_at_the_target(open_s3: OpenS3, tmp_path: Path) -> None:
    s3 = await open_s3()
    source = tmp_path / "src"
    source.mkdir()
    (source / "f.txt").write_bytes(b"old local")
    old = datetime.now(UTC).timestamp() - 3600
    os.utime(source / "f.txt", (old, old))
    await s3.put("t/f.txt", b"newer remote")
    await upload_tree(
        s3,
        source,
        "t/",
        update=True,
        filter=None,
        ignore_file_names=frozenset(),
        progress=NO_PROGRESS,
    )
    async with s3.fetch("t/f.txt") as chunks:
        assert b"".join([c async for c in chunks]) == b"newer remote"


async def test_hostile_keys_never_escape_the_download_target(
    open_s3: OpenS3, tmp_path: Path
) -> None:
    s3 = await open_s3()
    await s3.put("d/ok.txt", b"ok")
    # AWS keeps keys as given, "../" included; SeaweedFS refuses or cleans them, so the
    # listing of such a store is played by adding its entries to the real listing.
    hostile = ["d/../../escaped.txt", "d/./../escaped.txt", "d//double.txt", "d/sub/../../x"]
    real_listing = s3.listing

    async def listing(
        prefix: str, *, recursive: bool, limit: int | None = None
    ) -> AsyncIterator[BucketEntry]:
        async for entry in real_listing(prefix, recursive=recursive, limit=limit):
            yield entry
        for key in hostile:
            yield neuro_sdk.BlobObject(key=key, bucket=s3.bucket, size=4)

    s3.listing = listing  # type: ignore[method-assign]
    target = tmp_path / "deep" / "target"
    recorder = Recorder()
    await download_tree(
        s3, "d/", target, update=False, continue_=False, filter=None, progress=recorder
    )
    assert (target / "ok.txt").read_bytes() == b"ok"
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))  # noqa: ASYNC240
    assert written == [
        "deep",
        "deep/target",
        "deep/target/ok.txt",
    ]
    failures = [e for e in recorder.events if isinstance(e, neuro_sdk.StorageProgressFail)]
    assert len(failures) == len(hostile)


async def test_many_keys_are_removed_in_batches(open_s3: OpenS3) -> None:
    s3 = await open_s3()
    keys = [f"many/{i:04}" for i in range(1005)]  # above the 1000 keys of one request
    for key in keys:
        await s3.put(key, b"")
    await s3.delete_many(keys)
    assert [e async for e in s3.listing("many/", recursive=True)] == []


async def _chunks(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
