"""Buckets API (docs/protocol.md §8.4): ``Client.buckets``.

Buckets and credentials are managed through the platform's buckets service; blob data
never passes through the platform: every blob operation resolves the bucket, asks the
platform for credentials scoped to it and talks S3 directly (``_buckets_s3``). Transfers
live in ``_buckets_transfer``, glob matching in ``_buckets_glob``, entities in
``_buckets_entities``.

Blob URIs are ``blob://cluster/[org/]owner/<bucket name or id>/key`` or the short
``blob:bucket/key`` (the public parser's rules, ``_uris``); a trailing ``/`` is kept, since
``folder/`` and ``folder`` are different keys.
"""

import errno
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from yarl import URL

from ._buckets_entities import (
    BLOB_SCHEME,
    BlobCommonPrefix,
    BlobObject,
    Bucket,
    BucketCredentials,
    BucketEntry,
    BucketUsage,
    PersistentBucketCredentials,
)
from ._buckets_glob import ancestors, has_magic, literal_prefix, matches
from ._buckets_s3 import S3Bucket, S3Sessions, chunks_of
from ._buckets_transfer import download_file, download_tree, upload_file, upload_tree
from ._config import Config
from ._core import _Core
from ._local_side import check_local_target_file, local_source_dir, local_source_file
from ._org import ORG_NAME_SENTINEL, OrgName, resolve_org
from ._storage_entities import (
    AbstractDeleteProgress,
    AbstractFileProgress,
    AbstractRecursiveFileProgress,
    StorageProgressDelete,
)
from ._transfer import NO_PROGRESS
from ._uris import UriContext, local_uri_to_path, normalize_uri

__all__ = [
    "BlobCommonPrefix",
    "BlobObject",
    "Bucket",
    "BucketCredentials",
    "BucketEntry",
    "BucketUsage",
    "Buckets",
    "PersistentBucketCredentials",
]


class Buckets:
    """Buckets API, available as ``Client.buckets``."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config
        self._s3 = S3Sessions()
        self._known: dict[str, Bucket] = {}  # bucket URI (by name and by id) -> bucket

    async def _close(self) -> None:
        await self._s3.close()

    # -- buckets ---------------------------------------------------------------------------

    @asynccontextmanager
    async def list(self, cluster_name: str | None = None) -> AsyncIterator[AsyncIterator[Bucket]]:
        buckets = self._iterate(cluster_name or self._config.cluster_name)
        try:
            yield buckets
        finally:
            await buckets.aclose()

    async def _iterate(self, cluster_name: str) -> AsyncGenerator[Bucket]:
        async for item in self._core.stream_json(
            "GET", self._buckets_url(cluster_name), auth=await self._config._api_auth()
        ):
            yield self._bucket(item, cluster_name)

    async def create(
        self,
        name: str | None = None,
        cluster_name: str | None = None,
        org_name: OrgName = ORG_NAME_SENTINEL,
    ) -> Bucket:
        """A new bucket (anonymous without ``name``), in the current org unless ``org_name``
        says otherwise (None: no org)."""
        cluster = cluster_name or self._config.cluster_name
        body = {"name": name, "org_name": resolve_org(org_name, self._config)}
        return await self._bucket_request("POST", self._buckets_url(cluster), cluster, json=body)

    async def import_external(
        self,
        provider: Bucket.Provider,
        provider_bucket_name: str,
        credentials: Mapping[str, str],
        name: str | None = None,
        cluster_name: str | None = None,
        org_name: OrgName = ORG_NAME_SENTINEL,
    ) -> Bucket:
        cluster = cluster_name or self._config.cluster_name
        body = {
            "name": name,
            "provider": Bucket.Provider(provider).value,
            "provider_bucket_name": provider_bucket_name,
            "credentials": dict(credentials),
            "org_name": resolve_org(org_name, self._config),
        }
        url = self._buckets_url(cluster) / "import" / "external"
        return await self._bucket_request("POST", url, cluster, json=body)

    async def get(
        self,
        bucket_id_or_name: str,
        cluster_name: str | None = None,
        bucket_owner: str | None = None,
    ) -> Bucket:
        cluster = cluster_name or self._config.cluster_name
        url = self._bucket_url(cluster, bucket_id_or_name)
        return await self._bucket_request("GET", url, cluster, params=_owner(bucket_owner))

    async def rm(
        self,
        bucket_id_or_name: str,
        cluster_name: str | None = None,
        bucket_owner: str | None = None,
    ) -> None:
        cluster = cluster_name or self._config.cluster_name
        async with self._core.request(
            "DELETE",
            self._bucket_url(cluster, bucket_id_or_name),
            params=_owner(bucket_owner),
            auth=await self._config._api_auth(),
        ):
            pass
        self._known.clear()

    async def set_public_access(
        self,
        bucket_id_or_name: str,
        public_access: bool,
        cluster_name: str | None = None,
        bucket_owner: str | None = None,
    ) -> Bucket:
        cluster = cluster_name or self._config.cluster_name
        return await self._bucket_request(
            "PATCH",
            self._bucket_url(cluster, bucket_id_or_name),
            cluster,
            params=_owner(bucket_owner),
            json={"public": bool(public_access)},
        )

    async def request_tmp_credentials(
        self,
        bucket_id_or_name: str,
        cluster_name: str | None = None,
        bucket_owner: str | None = None,
    ) -> BucketCredentials:
        cluster = cluster_name or self._config.cluster_name
        url = self._bucket_url(cluster, bucket_id_or_name) / "make_tmp_credentials"
        async with self._core.request(
            "POST", url, params=_owner(bucket_owner), auth=await self._config._api_auth()
        ) as response:
            return _bucket_credentials(await response.json())

    @asynccontextmanager
    async def get_disk_usage(
        self,
        bucket_id_or_name: str,
        cluster_name: str | None = None,
        bucket_owner: str | None = None,
    ) -> AsyncIterator[AsyncIterator[BucketUsage]]:
        """Running totals, one per listed page of the bucket: big buckets take a while."""
        bucket = await self.get(bucket_id_or_name, cluster_name, bucket_owner)
        s3 = await self._s3_for(bucket)

        async def usage() -> AsyncIterator[BucketUsage]:
            total = count = 0
            async for entry in s3.listing("", recursive=True):
                total += entry.size
                count += 1
                if count % 1000 == 0:
                    yield BucketUsage(total_bytes=total, object_count=count)
            if count % 1000 or count == 0:
                yield BucketUsage(total_bytes=total, object_count=count)

        yield usage()

    # -- blobs by bucket and key -----------------------------------------------------------

    async def head_blob(
        self,
        bucket_id_or_name: str,
        key: str,
        cluster_name: str | None = None,
        bucket_owner: str | None = None,
    ) -> BucketEntry:
        s3 = await self._s3_by_name(bucket_id_or_name, cluster_name, bucket_owner)
        return await s3.head(key)

    async def put_blob(
        self,
        bucket_id_or_name: str,
        key: str,
        body: AsyncIterator[bytes] | bytes,
        cluster_name: str | None = None,
        bucket_owner: str | None = None,
    ) -> None:
        s3 = await self._s3_by_name(bucket_id_or_name, cluster_name, bucket_owner)
        if isinstance(body, bytes):
            await s3.put_stream(key, chunks_of(body))
        else:
            await s3.put_stream(key, body)

    @asynccontextmanager
    async def fetch_blob(
        self,
        bucket_id_or_name: str,
        key: str,
        offset: int = 0,
        cluster_name: str | None = None,
        bucket_owner: str | None = None,
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        s3 = await self._s3_by_name(bucket_id_or_name, cluster_name, bucket_owner)
        async with s3.fetch(key, offset) as chunks:
            yield chunks

    async def delete_blob(
        self,
        bucket_id_or_name: str,
        key: str,
        cluster_name: str | None = None,
        bucket_owner: str | None = None,
    ) -> None:
        s3 = await self._s3_by_name(bucket_id_or_name, cluster_name, bucket_owner)
        await s3.delete(key)

    # -- blobs by URI ----------------------------------------------------------------------

    @asynccontextmanager
    async def list_blobs(
        self, uri: URL, recursive: bool = False, limit: int | None = None
    ) -> AsyncIterator[AsyncIterator[BucketEntry]]:
        s3, key = await self._locate(uri)
        entries = s3.listing(key, recursive=recursive, limit=limit)
        try:
            yield entries
        finally:
            await entries.aclose()  # type: ignore[attr-defined]

    @asynccontextmanager
    async def glob_blobs(self, uri: URL) -> AsyncIterator[AsyncIterator[BucketEntry]]:
        s3, pattern = await self._locate(uri)
        yield _glob(s3, pattern)

    async def upload_file(
        self,
        src: URL,
        dst: URL,
        *,
        update: bool = False,
        progress: AbstractFileProgress | None = None,
    ) -> None:
        path, info = local_source_file(src)
        s3, key = await self._locate(dst)
        if key == "" or key.endswith("/"):
            key += path.name
        existing = await s3.head_or_none(key) if update else None
        await upload_file(
            s3,
            path,
            key,
            info=info,
            update=update,
            existing=existing,
            progress=progress or NO_PROGRESS,
        )

    async def download_file(
        self,
        src: URL,
        dst: URL,
        *,
        update: bool = False,
        continue_: bool = False,
        progress: AbstractFileProgress | None = None,
    ) -> None:
        s3, key = await self._locate(src)
        path = local_uri_to_path(dst)
        entry = await s3.head(key)
        check_local_target_file(path)
        await download_file(
            s3,
            entry,
            path,
            update=update,
            continue_=continue_,
            progress=progress or NO_PROGRESS,
        )

    async def upload_dir(
        self,
        src: URL,
        dst: URL,
        *,
        update: bool = False,
        filter: Callable[[str], Awaitable[bool]] | None = None,
        ignore_file_names: AbstractSet[str] = frozenset(),
        progress: AbstractRecursiveFileProgress | None = None,
    ) -> None:
        path = local_source_dir(src)
        s3, key = await self._locate(dst)
        await upload_tree(
            s3,
            path,
            _as_dir(key),
            update=update,
            filter=filter,
            ignore_file_names=frozenset(ignore_file_names),
            progress=progress or NO_PROGRESS,
        )

    async def download_dir(
        self,
        src: URL,
        dst: URL,
        *,
        update: bool = False,
        continue_: bool = False,
        filter: Callable[[str], Awaitable[bool]] | None = None,
        progress: AbstractRecursiveFileProgress | None = None,
    ) -> None:
        s3, key = await self._locate(src)
        if not await s3.is_dir(key):
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(src))
        await download_tree(
            s3,
            _as_dir(key),
            local_uri_to_path(dst),
            update=update,
            continue_=continue_,
            filter=filter,
            progress=progress or NO_PROGRESS,
        )

    async def blob_is_dir(self, uri: URL) -> bool:
        s3, key = await self._locate(uri)
        return await s3.is_dir(key)

    async def blob_rm(
        self,
        uri: URL,
        *,
        recursive: bool = False,
        progress: AbstractDeleteProgress | None = None,
    ) -> None:
        s3, key = await self._locate(uri)
        if await s3.is_dir(key):
            if not recursive:
                raise IsADirectoryError(
                    errno.EISDIR, "Is a directory, use recursive remove", str(uri)
                )
            entries = [e async for e in s3.listing(_as_dir(key), recursive=True)]
            # Deepest first, so that a directory's marker goes after what it holds.
            entries.sort(key=lambda e: e.key, reverse=True)
            await s3.delete_many([e.key for e in entries])
            if progress is not None:
                for entry in entries:
                    progress.delete(StorageProgressDelete(entry.uri, entry.is_dir()))
            return
        if await s3.head_or_none(key) is None:
            raise FileNotFoundError(errno.ENOENT, "No such blob", str(uri))
        await s3.delete(key)
        if progress is not None:
            progress.delete(StorageProgressDelete(URL(f"{s3.bucket.uri}/{key}"), False))

    async def make_signed_url(self, uri: URL, expires_in_seconds: int = 3600) -> URL:
        bucket, key = await self._resolve(uri)
        url = self._buckets_url(bucket.cluster_name) / bucket.id / "sign_blob_url"
        async with self._core.request(
            "POST",
            url,
            params={"owner": bucket.owner},
            json={"key": key, "expires_in_sec": expires_in_seconds},
            auth=await self._config._api_auth(),
        ) as response:
            return URL((await response.json())["url"], encoded=True)

    # -- persistent credentials ------------------------------------------------------------

    @asynccontextmanager
    async def persistent_credentials_list(
        self, cluster_name: str | None = None
    ) -> AsyncIterator[AsyncIterator[PersistentBucketCredentials]]:
        cluster = cluster_name or self._config.cluster_name

        async def iterate() -> AsyncGenerator[PersistentBucketCredentials]:
            async for item in self._core.stream_json(
                "GET", self._credentials_url(cluster), auth=await self._config._api_auth()
            ):
                yield _persistent(item, cluster)

        credentials = iterate()
        try:
            yield credentials
        finally:
            await credentials.aclose()

    async def persistent_credentials_create(
        self,
        bucket_ids: Iterable[str],
        name: str | None = None,
        cluster_name: str | None = None,
        read_only: bool | None = False,
    ) -> PersistentBucketCredentials:
        cluster = cluster_name or self._config.cluster_name
        body = {"name": name, "bucket_ids": list(bucket_ids), "read_only": bool(read_only)}
        async with self._core.request(
            "POST", self._credentials_url(cluster), json=body, auth=await self._config._api_auth()
        ) as response:
            return _persistent(await response.json(), cluster)

    async def persistent_credentials_get(
        self, credential_id_or_name: str, cluster_name: str | None = None
    ) -> PersistentBucketCredentials:
        cluster = cluster_name or self._config.cluster_name
        url = self._credentials_url(cluster) / credential_id_or_name
        async with self._core.request("GET", url, auth=await self._config._api_auth()) as response:
            return _persistent(await response.json(), cluster)

    async def persistent_credentials_rm(
        self, credential_id_or_name: str, cluster_name: str | None = None
    ) -> None:
        cluster = cluster_name or self._config.cluster_name
        url = self._credentials_url(cluster) / credential_id_or_name
        async with self._core.request("DELETE", url, auth=await self._config._api_auth()):
            pass

    # -- helpers ---------------------------------------------------------------------------

    async def _bucket_request(self, method: str, url: URL, cluster: str, **kwargs: Any) -> Bucket:
        async with self._core.request(
            method, url, auth=await self._config._api_auth(), **kwargs
        ) as response:
            return self._bucket(await response.json(), cluster)

    def _bucket(self, item: Mapping[str, Any], cluster: str) -> Bucket:
        bucket = _bucket(item, cluster)
        self._known[str(bucket.uri)] = bucket
        self._known[str(bucket.uri.parent / bucket.id)] = bucket
        return bucket

    async def _resolve(self, uri: URL) -> tuple[Bucket, str]:
        """The bucket a blob URI lies in, and the key it names there."""
        trailing = uri.path.endswith("/") and uri.path.strip("/") != ""
        config = self._config
        context = UriContext(config.cluster_name, config.username, config.org_name)
        uri = normalize_uri(uri, context, allowed_schemes=(BLOB_SCHEME,))
        text = str(uri)
        cached = [b for k, b in self._known.items() if text == k or text.startswith(k + "/")]
        if cached:
            bucket = cached[0]
        else:
            path = uri.path.strip("/")
            if not path:
                raise ValueError(f"Invalid blob URI {text!r}: no bucket given")
            assert uri.host is not None
            url = self._buckets_url(uri.host) / "find" / "by_path"
            bucket = await self._bucket_request("GET", url, uri.host, params={"path": path})
        key = bucket.get_key_for_uri(uri)
        return bucket, key + "/" if trailing and key else key

    async def _locate(self, uri: URL) -> tuple[S3Bucket, str]:
        bucket, key = await self._resolve(uri)
        return await self._s3_for(bucket), key

    async def _s3_by_name(
        self, bucket_id_or_name: str, cluster_name: str | None, bucket_owner: str | None
    ) -> S3Bucket:
        return await self._s3_for(await self.get(bucket_id_or_name, cluster_name, bucket_owner))

    async def _s3_for(self, bucket: Bucket) -> S3Bucket:
        async def fetch() -> BucketCredentials:
            return await self.request_tmp_credentials(bucket.id, bucket.cluster_name, bucket.owner)

        return await self._s3.get(bucket, fetch)

    def _cluster_url(self, cluster_name: str) -> URL:
        cluster = self._config.clusters.get(cluster_name)
        if cluster is None:
            raise ValueError(f"Unknown cluster {cluster_name!r}")
        return cluster.buckets_url

    def _buckets_url(self, cluster_name: str) -> URL:
        return self._cluster_url(cluster_name) / "buckets"

    def _bucket_url(self, cluster_name: str, bucket_id_or_name: str) -> URL:
        if not bucket_id_or_name or "/" in bucket_id_or_name:
            raise ValueError(f"Invalid bucket id or name {bucket_id_or_name!r}")
        return self._buckets_url(cluster_name) / bucket_id_or_name

    def _credentials_url(self, cluster_name: str) -> URL:
        return self._cluster_url(cluster_name) / "persistent_credentials"


async def _glob(s3: S3Bucket, pattern: str) -> AsyncIterator[BucketEntry]:
    if not has_magic(pattern):
        blob = await s3.head_or_none(pattern)
        if blob is not None:
            yield blob
        elif await s3.is_dir(pattern):
            yield BlobCommonPrefix(key=_as_dir(pattern), bucket=s3.bucket, size=0)
        return
    # One recursive listing below the literal part; "folders" match through their keys.
    seen: set[str] = set()
    async for entry in s3.listing(literal_prefix(pattern), recursive=True):
        for folder in ancestors(entry.key):
            if folder not in seen and matches(folder, pattern):
                seen.add(folder)
                yield BlobCommonPrefix(key=folder, bucket=s3.bucket, size=0)
        if entry.key not in seen and matches(entry.key, pattern):
            seen.add(entry.key)
            yield entry


def _as_dir(key: str) -> str:
    return key if key == "" or key.endswith("/") else key + "/"


def _owner(owner: str | None) -> dict[str, str]:
    return {"owner": owner} if owner else {}


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _bucket(item: Mapping[str, Any], cluster: str) -> Bucket:
    return Bucket(
        id=item["id"],
        owner=item["owner"],
        cluster_name=cluster,
        org_name=item.get("org_name"),
        provider=Bucket.Provider(item["provider"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        imported=bool(item.get("imported", False)),
        public=bool(item.get("public", False)),
        name=item.get("name"),
    )


def _bucket_credentials(item: Mapping[str, Any]) -> BucketCredentials:
    return BucketCredentials(
        bucket_id=item["bucket_id"],
        provider=Bucket.Provider(item["provider"]),
        credentials={k: str(v) for k, v in item["credentials"].items() if v is not None},
    )


def _persistent(item: Mapping[str, Any], cluster: str) -> PersistentBucketCredentials:
    return PersistentBucketCredentials(
        id=item["id"],
        owner=item["owner"],
        cluster_name=cluster,
        name=item.get("name"),
        read_only=bool(item.get("read_only", False)),
        credentials=[_bucket_credentials(c) for c in item.get("credentials", [])],
    )
