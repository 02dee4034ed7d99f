"""One bucket on an S3-compatible store, reached directly with the bucket's scoped
credentials (docs/protocol.md §8.4: blob data never passes through the platform).

* The credentials come from ``make_tmp_credentials``; when they carry an ``expiration``
  botocore's refreshable credentials ask the platform for new ones shortly before they
  expire (``REFRESH_BEFORE_S``), so a long transfer never signs with expired keys.
* Objects above ``TransferSizes.part_size`` travel as multipart uploads and ranged GETs,
  ``TransferSizes.concurrency`` parts at a time; a download writes its parts in order, so
  the local file is always a prefix of the blob (what ``continue_`` relies on).
* S3 errors become the SDK's: 403 ``AuthorizationError``, 404 ``ResourceNotFound``,
  anything else ``IllegalArgumentError`` with S3's code and message.
"""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._buckets_entities import BlobCommonPrefix, BlobObject, Bucket, BucketCredentials, BucketEntry
from ._buckets_signing import hash_payloads_in_threads
from ._errors import AuthorizationError, IllegalArgumentError, ResourceNotFound

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

# Refresh this long before the credentials expire (botocore's default, 15 minutes, would
# refresh on every call for credentials that live a few minutes).
REFRESH_BEFORE_S = 60
MANDATORY_REFRESH_BEFORE_S = 20

S3_PROVIDERS = frozenset({Bucket.Provider.AWS, Bucket.Provider.MINIO, Bucket.Provider.OPEN_STACK})

Progress = Callable[[int], None]  # called with the number of bytes just transferred


@dataclass(frozen=True)
class TransferSizes:
    # boto3's transfer defaults, which measured as fast as any other here (benchmarks/buckets.py).
    part_size: int = 8 * 1024 * 1024  # above this, multipart upload / ranged parallel GETs
    concurrency: int = 10  # parts of one object in flight
    files_concurrency: int = 32  # objects of a directory transfer in flight
    read_chunk: int = 1024 * 1024


def s3_error(error: Exception, what: str) -> Exception:
    """The SDK's exception for a botocore ``ClientError``."""
    response: dict[str, Any] = getattr(error, "response", {})
    code = str(response.get("Error", {}).get("Code", ""))
    message = str(response.get("Error", {}).get("Message", "")) or code or str(error)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status == 403 or code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return AuthorizationError(f"{what}: access denied ({code or status})")
    if status == 404 or code in ("NoSuchKey", "NoSuchBucket", "NotFound", "404"):
        return ResourceNotFound(f"{what}: not found")
    return IllegalArgumentError(f"{what}: {code}: {message}")


class S3Bucket:
    """S3 operations on one bucket; made by ``open_s3_bucket``."""

    def __init__(self, bucket: Bucket, client: "S3Client", name: str, sizes: TransferSizes):
        self.bucket = bucket
        self._client = client
        self._name = name  # the bucket's name at the provider
        self.sizes = sizes

    async def _call(self, what: str, action: Awaitable[Any]) -> Any:
        from botocore.exceptions import ClientError

        try:
            return await action
        except ClientError as error:
            raise s3_error(error, what) from None

    def _entry(self, key: str, size: int, modified: datetime | None) -> BlobObject:
        return BlobObject(
            key=key, bucket=self.bucket, size=size, created_at=modified, modified_at=modified
        )

    async def head(self, key: str) -> BlobObject:
        answer = await self._call(
            f"Blob {key!r}", self._client.head_object(Bucket=self._name, Key=key)
        )
        return self._entry(key, answer["ContentLength"], answer.get("LastModified"))

    async def head_or_none(self, key: str) -> BlobObject | None:
        try:
            return await self.head(key)
        except ResourceNotFound:
            return None

    async def listing(
        self, prefix: str, *, recursive: bool, limit: int | None = None
    ) -> AsyncIterator[BucketEntry]:
        """Objects under ``prefix`` (common prefixes too unless ``recursive``), key order."""
        kwargs: dict[str, Any] = {"Bucket": self._name, "Prefix": prefix}
        if not recursive:
            kwargs["Delimiter"] = "/"
        count = 0
        token: str | None = None
        while True:
            continuation: dict[str, Any] = {"ContinuationToken": token} if token else {}
            page = await self._call(
                f"Listing of {prefix or '/'}",
                self._client.list_objects_v2(**kwargs, **continuation),
            )
            entries: list[BucketEntry] = [
                self._entry(item["Key"], item["Size"], item.get("LastModified"))
                for item in page.get("Contents", [])
            ]
            entries += [
                BlobCommonPrefix(key=item["Prefix"], bucket=self.bucket, size=0)
                for item in page.get("CommonPrefixes", [])
            ]
            for entry in sorted(entries, key=lambda e: e.key):
                if limit is not None and count >= limit:
                    return
                count += 1
                yield entry
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    async def is_dir(self, key: str) -> bool:
        if key == "":
            return True
        prefix = key if key.endswith("/") else key + "/"
        async for _ in self.listing(prefix, recursive=False, limit=1):
            return True
        return False

    async def delete(self, key: str) -> None:
        await self._call(
            f"Removal of {key!r}", self._client.delete_object(Bucket=self._name, Key=key)
        )

    async def delete_many(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # S3's limit per request
            batch: list[Any] = [{"Key": key} for key in keys[start : start + 1000]]
            answer = await self._call(
                "Removal of blobs",
                self._client.delete_objects(
                    Bucket=self._name, Delete={"Objects": batch, "Quiet": True}
                ),
            )
            errors = answer.get("Errors", [])
            if errors:
                first = errors[0]
                raise s3_error(
                    _FakeClientError(first.get("Code", ""), first.get("Message", "")),
                    f"Removal of {first.get('Key')!r}",
                )

    async def put(self, key: str, body: bytes) -> None:
        await self._call(
            f"Upload of {key!r}", self._client.put_object(Bucket=self._name, Key=key, Body=body)
        )

    async def put_stream(
        self, key: str, chunks: AsyncIterator[bytes], progress: Progress | None = None
    ) -> None:
        """Uploads a stream: one PUT if it fits a part, else a multipart upload."""
        buffer = bytearray()
        upload: _Multipart | None = None
        async for chunk in chunks:
            buffer += chunk
            if len(buffer) >= self.sizes.part_size:
                if upload is None:
                    upload = await _Multipart.start(self, key)
                try:
                    await upload.send(bytes(buffer))
                except BaseException:
                    await upload.abort()
                    raise
                if progress is not None:
                    progress(len(buffer))
                buffer = bytearray()
        if upload is None:
            await self.put(key, bytes(buffer))
        else:
            try:
                if buffer:
                    await upload.send(bytes(buffer))
                await upload.complete()
            except BaseException:
                await upload.abort()
                raise
        if progress is not None and buffer:
            progress(len(buffer))

    async def put_file(self, key: str, path: Path, size: int, progress: Progress) -> None:
        """Uploads a local file; big ones in parts sent ``concurrency`` at a time."""
        part_size = max(self.sizes.part_size, -(-size // 10_000))  # S3: at most 10,000 parts
        if size <= part_size:
            data = await _read_range(path, 0, size)
            await self.put(key, data)
            progress(len(data))
            return
        upload = await _Multipart.start(self, key)
        slots = asyncio.Semaphore(self.sizes.concurrency)

        async def send(number: int, offset: int) -> None:
            async with slots:
                data = await _read_range(path, offset, min(part_size, size - offset))
                await upload.send(data, number)
            progress(len(data))

        try:
            async with asyncio.TaskGroup() as group:
                for number, offset in enumerate(range(0, size, part_size), start=1):
                    group.create_task(send(number, offset))
            await upload.complete()
        except BaseException as error:
            await upload.abort()
            if isinstance(error, BaseExceptionGroup):
                raise error.exceptions[0] from None
            raise

    @asynccontextmanager
    async def fetch(self, key: str, offset: int = 0) -> AsyncIterator[AsyncIterator[bytes]]:
        kwargs: dict[str, Any] = {"Bucket": self._name, "Key": key}
        if offset:
            kwargs["Range"] = f"bytes={offset}-"
        answer = await self._call(f"Blob {key!r}", self._client.get_object(**kwargs))
        body = answer["Body"]
        try:
            yield body.iter_chunks(self.sizes.read_chunk)
        finally:
            body.close()

    async def _get_range(self, key: str, start: int, end: int) -> list[bytes]:
        answer = await self._call(
            f"Blob {key!r}",
            self._client.get_object(Bucket=self._name, Key=key, Range=f"bytes={start}-{end - 1}"),
        )
        body = answer["Body"]
        try:
            # Kept as received: joining a part would copy every byte once more.
            return [chunk async for chunk in body.iter_chunks(self.sizes.read_chunk)]
        finally:
            body.close()

    async def download_file(
        self, key: str, path: Path, *, size: int, offset: int, progress: Progress
    ) -> None:
        """Writes the blob's bytes from ``offset`` on into ``path`` (truncated there)."""
        file = await asyncio.to_thread(_open_at, path, offset)
        try:
            if size - offset <= self.sizes.part_size:
                async with self.fetch(key, offset) as chunks:
                    async for chunk in chunks:
                        await _write(file, chunk)
                        progress(len(chunk))
                return
            await self._download_parts(key, file, size=size, offset=offset, progress=progress)
        finally:
            await asyncio.to_thread(file.close)

    async def _download_parts(
        self, key: str, file: Any, *, size: int, offset: int, progress: Progress
    ) -> None:
        # Parts are fetched ``concurrency`` at a time but written in order: a slot is freed
        # only once its part is on disk, so memory stays at concurrency * part_size.
        part = self.sizes.part_size
        slots = asyncio.Semaphore(self.sizes.concurrency)

        async def fetch(start: int) -> list[bytes]:
            await slots.acquire()
            return await self._get_range(key, start, min(start + part, size))

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(fetch(start)) for start in range(offset, size, part)]
            for task in tasks:
                chunks = await task
                await asyncio.to_thread(_write_all, file, chunks)
                slots.release()
                progress(sum(map(len, chunks)))


class _FakeClientError(Exception):
    """A per-key error of DeleteObjects, shaped like botocore's ``ClientError``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.response = {"Error": {"Code": code, "Message": message}}


class _Multipart:
    def __init__(self, s3: S3Bucket, key: str, upload_id: str) -> None:
        self._s3 = s3
        self._key = key
        self._id = upload_id
        self._parts: dict[int, str] = {}

    @classmethod
    async def start(cls, s3: S3Bucket, key: str) -> "_Multipart":
        answer = await s3._call(
            f"Upload of {key!r}",
            s3._client.create_multipart_upload(Bucket=s3._name, Key=key),
        )
        return cls(s3, key, answer["UploadId"])

    async def send(self, data: bytes, number: int | None = None) -> None:
        number = number if number is not None else len(self._parts) + 1
        answer = await self._s3._call(
            f"Upload of {self._key!r}",
            self._s3._client.upload_part(
                Bucket=self._s3._name,
                Key=self._key,
                UploadId=self._id,
                PartNumber=number,
                Body=data,
            ),
        )
        self._parts[number] = answer["ETag"]

    async def complete(self) -> None:
        parts = [{"PartNumber": n, "ETag": self._parts[n]} for n in sorted(self._parts)]
        await self._s3._call(
            f"Upload of {self._key!r}",
            self._s3._client.complete_multipart_upload(
                Bucket=self._s3._name,
                Key=self._key,
                UploadId=self._id,
                MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
            ),
        )

    async def abort(self) -> None:
        # Best effort: the upload failed already; its error is the one worth raising.
        with contextlib.suppress(Exception):
            await self._s3._client.abort_multipart_upload(
                Bucket=self._s3._name, Key=self._key, UploadId=self._id
            )


INLINE_IO_LIMIT = 256 * 1024  # below this a read or write costs less than a thread hop


async def _read_range(path: Path, offset: int, length: int) -> bytes:
    def read() -> bytes:
        with path.open("rb", buffering=0) as file:
            return os.pread(file.fileno(), length, offset)

    # Thousands of small files: their CPU goes to the requests, not to thread handoffs.
    return read() if length <= INLINE_IO_LIMIT else await asyncio.to_thread(read)


def _open_at(path: Path, offset: int) -> Any:
    # Unbuffered: parts arrive as lists of chunks, each written as it is.
    if offset == 0:
        return path.open("wb", buffering=0)
    file = path.open("r+b", buffering=0)
    file.seek(offset)
    file.truncate()
    return file


def _write_all(file: Any, chunks: list[bytes]) -> None:
    for chunk in chunks:
        view = memoryview(chunk)
        while view:  # a raw file may take less than it is given
            view = view[file.write(view) :]


async def _write(file: Any, data: bytes) -> None:
    if len(data) <= INLINE_IO_LIMIT:
        _write_all(file, [data])
    else:
        await asyncio.to_thread(_write_all, file, [data])


def _expiry(credentials: BucketCredentials) -> datetime | None:
    value = credentials.credentials.get("expiration")
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class S3Sessions:
    """The S3 clients of one SDK client, one per bucket, closed with the SDK client.

    ``fetch_credentials`` asks the platform for the bucket's credentials; it is called once
    per bucket, and again whenever the credentials are about to expire.
    """

    def __init__(self, sizes: TransferSizes | None = None) -> None:
        self._sizes = sizes or TransferSizes()
        self._stack = AsyncExitStack()
        self._buckets: dict[tuple[str, str], S3Bucket] = {}
        self._lock = asyncio.Lock()
        self._loader: Any = None

    async def get(
        self,
        bucket: Bucket,
        fetch_credentials: Callable[[], Awaitable[BucketCredentials]],
    ) -> S3Bucket:
        cache_key = (bucket.cluster_name, bucket.id)
        async with self._lock:
            if cache_key not in self._buckets:
                self._buckets[cache_key] = await self._open(bucket, fetch_credentials)
            return self._buckets[cache_key]

    async def _open(
        self,
        bucket: Bucket,
        fetch_credentials: Callable[[], Awaitable[BucketCredentials]],
    ) -> S3Bucket:
        from aiobotocore.config import AioConfig
        from aiobotocore.credentials import AioCredentials, AioRefreshableCredentials
        from aiobotocore.session import AioSession

        if bucket.provider not in S3_PROVIDERS:
            raise IllegalArgumentError(
                f"Bucket {bucket.uri}: provider {bucket.provider.value!r} is not supported "
                "by this client (S3-compatible providers only)"
            )
        first = await fetch_credentials()
        raw = first.credentials
        session = AioSession()
        # One parsed S3 model for all the buckets: loading it costs tens of milliseconds.
        if self._loader is None:
            self._loader = session.get_component("data_loader")
        else:
            session.register_component("data_loader", self._loader)

        async def refresh() -> dict[str, Any]:
            fresh = await fetch_credentials()
            return _metadata(fresh)

        expiry = _expiry(first)
        credentials: Any
        if expiry is None:
            credentials = AioCredentials(
                raw["access_key_id"], raw["secret_access_key"], raw.get("session_token")
            )
        else:
            credentials = AioRefreshableCredentials.create_from_metadata(
                _metadata(first),
                refresh_using=refresh,
                method="neuro-platform",
                advisory_timeout=REFRESH_BEFORE_S,
                mandatory_timeout=MANDATORY_REFRESH_BEFORE_S,
            )
        # Read by create_client; refreshable credentials have no public setter.
        session._credentials = credentials  # type: ignore[attr-defined]
        config = AioConfig(
            max_pool_connections=max(self._sizes.concurrency, self._sizes.files_concurrency),
            s3={"addressing_style": "path"},
            retries={"max_attempts": 5, "mode": "standard"},
            # Checksums of every body cost CPU and are not needed over TLS or loopback.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        client = await self._stack.enter_async_context(
            session.create_client(
                "s3",
                endpoint_url=raw.get("endpoint_url") or None,
                region_name=raw.get("region_name") or "us-east-1",
                config=config,
            )
        )
        hash_payloads_in_threads(client.meta.events)
        return S3Bucket(bucket, client, raw["bucket_name"], self._sizes)

    async def close(self) -> None:
        self._buckets.clear()
        await self._stack.aclose()


def _metadata(credentials: BucketCredentials) -> dict[str, Any]:
    raw = credentials.credentials
    expiry = _expiry(credentials)
    return {
        "access_key": raw["access_key_id"],
        "secret_key": raw["secret_access_key"],
        "token": raw.get("session_token"),
        "expiry_time": (expiry or datetime.max.replace(tzinfo=UTC)).isoformat(),
    }


def chunks_of(data: bytes | Iterable[bytes]) -> AsyncIterator[bytes]:
    async def generate() -> AsyncIterator[bytes]:
        if isinstance(data, bytes):
            yield data
        else:
            for chunk in data:
                yield chunk

    return generate()
