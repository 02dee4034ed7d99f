"""The storage service's HTTP operations (docs/protocol.md §5), one method per request.

Everything goes through ``_Core.request`` and its single status->exception mapping; the
only additions are the in-band NDJSON errors that carry an ``errno`` (they become the
matching ``OSError``, like the 400 answers do) and the transient statuses (502, 503)
that transfers retry instead of failing.
"""

import email.utils
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from ._config import Config
from ._core import NDJSON_MIME, _Core, _errno_from, error_from_response, ndjson_batches
from ._errors import NDJSONError, ResourceNotFound
from ._storage_entities import DiskUsageInfo, FileStatus, FileStatusType
from ._uris import STORAGE_SCHEME, UriContext, child_uris, normalize_uri
from ._users import Action

# Statuses a proxy or an overloaded server answers while the service itself is fine.
TRANSIENT_STATUSES = frozenset({502, 503})
TAR_MIME = "application/x-tar"


class TransientServerError(Exception):
    """A retryable status; ``error`` is what it maps to if the retries run out."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class ReadSpan:
    """An OPEN answer: where its body starts in the file and the file's total size."""

    start: int
    total: int


class RemoteStorage:
    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config
        # Server clock minus ours, from the `Date` headers (update/continue compare mtimes).
        self.time_diff = 0.0

    # -- addressing -----------------------------------------------------------------------

    def normalize(self, uri: URL) -> URL:
        context = UriContext(
            cluster=self._config.cluster_name,
            username=self._config.username,
            org=self._config.org_name,
        )
        return normalize_uri(uri, context, allowed_schemes=(STORAGE_SCHEME,))

    def http_url(self, uri: URL) -> URL:
        """The service URL of a canonical storage URI, on the URI's own cluster."""
        cluster = self._config.clusters.get(uri.host or "")
        if cluster is None:
            raise ValueError(f"Cluster {uri.host} is not available for {str(uri)!r}")
        path = uri.path.lstrip("/")
        return cluster.storage_url / path if path else cluster.storage_url

    def storage_root_uri(self, uri: URL, path: str) -> URL:
        """The URI of an absolute storage path on the cluster of ``uri``."""
        return URL.build(scheme="storage", host=uri.host or "", path=path)

    # -- requests -------------------------------------------------------------------------

    @asynccontextmanager
    async def _request(
        self,
        method: str,
        uri: URL,
        params: Mapping[str, str],
        *,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        transfer: bool = False,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        # Transfers of big files may pause for a long time (a slow disk, a busy server):
        # they get no read timeout, like the original client's.
        timeout = None
        if transfer:
            default = self._core.session.timeout
            timeout = aiohttp.ClientTimeout(
                connect=default.connect, sock_connect=default.sock_connect
            )
        async with self._core.request(
            method,
            self.http_url(uri),
            auth=await self._config._api_auth(),
            params=params,
            data=data,
            headers=headers,
            timeout=timeout,
            check=False,
        ) as response:
            self._note_server_time(response)
            if response.status in TRANSIENT_STATUSES:
                error = error_from_response(response.status, await response.text())
                raise TransientServerError(error)
            if response.status >= 400:
                raise error_from_response(response.status, await response.text())
            yield response

    def _note_server_time(self, response: aiohttp.ClientResponse) -> None:
        date = response.headers.get("Date")
        if date:
            try:
                server_time = email.utils.parsedate_to_datetime(date).timestamp()
            except (TypeError, ValueError):
                return
            # `Date` has whole seconds: a difference below that is noise, not skew.
            diff = server_time - time.time()
            self.time_diff = diff if abs(diff) > 1.5 else 0.0

    async def stat(self, uri: URL) -> FileStatus:
        async with self._request("GET", uri, {"op": "GETFILESTATUS"}) as response:
            payload = await response.json()
        status = payload["FileStatus"]
        return _file_status(status, self.storage_root_uri(uri, status["path"]))

    async def stat_or_none(self, uri: URL) -> FileStatus | None:
        try:
            return await self.stat(uri)
        except (ResourceNotFound, FileNotFoundError):
            return None

    async def list(self, uri: URL) -> AsyncGenerator[FileStatus]:
        headers = {"Accept": NDJSON_MIME}
        child = child_uris(uri)
        async with self._request("GET", uri, {"op": "LISTSTATUS"}, headers=headers) as response:
            if response.content_type.startswith(NDJSON_MIME):
                async for items in ndjson_batches(response.content):
                    for item in items:
                        check_for_server_error(item)
                        status = item["FileStatus"]
                        yield _file_status(status, child(status["path"]))
                return
            payload = await response.json()
        for status in payload["FileStatuses"]["FileStatus"]:
            yield _file_status(status, child(status["path"]))

    async def mkdirs(self, uri: URL) -> None:
        async with self._request("PUT", uri, {"op": "MKDIRS"}):
            pass

    async def create(self, uri: URL, data: Any) -> None:
        async with self._request("PUT", uri, {"op": "CREATE"}, data=data, transfer=True):
            pass

    async def create_tar(self, directory: URL, archive: bytes) -> None:
        """CREATETAR, our server's extension: the tar's files created in ``directory``."""
        headers = {"Content-Type": TAR_MIME}
        params = {"op": "CREATETAR"}
        async with self._request(
            "PUT", directory, params, data=archive, headers=headers, transfer=True
        ):
            pass

    async def open_tar(self, directory: URL, names: Sequence[str], max_file_size: int) -> bytes:
        """OPENTAR, our server's extension: the named small files of ``directory`` as a
        tar; names the server leaves out (missing, too big, not readable) are not in it."""
        body = json.dumps({"names": list(names), "max_file_size": max_file_size})
        headers = {"Content-Type": "application/json"}
        params = {"op": "OPENTAR"}
        async with self._request(
            "POST", directory, params, data=body, headers=headers, transfer=True
        ) as response:
            return await response.read()

    async def write(self, uri: URL, offset: int, length: int, data: Any) -> None:
        headers = {
            "Content-Range": f"bytes {offset}-{offset + length - 1}/*",
            "Content-Type": "application/octet-stream",
        }
        params = {"op": "WRITE"}
        async with self._request("PATCH", uri, params, data=data, headers=headers, transfer=True):
            pass

    @asynccontextmanager
    async def open(
        self, uri: URL, offset: int = 0, size: int | None = None
    ) -> AsyncIterator[tuple[ReadSpan, aiohttp.ClientResponse]]:
        """The answer with the file's bytes from ``offset`` (``size`` of them at most)."""
        headers = {}
        if offset > 0 or size is not None:
            end = "" if size is None else str(offset + size - 1)
            headers["Range"] = f"bytes={offset}-{end}"
        async with self._request(
            "GET", uri, {"op": "OPEN"}, headers=headers, transfer=True
        ) as response:
            total = int(response.headers.get("X-File-Length", response.content_length or 0))
            start = 0
            if response.status == 206:
                content_range = response.headers.get("Content-Range", "")
                start = int(content_range.removeprefix("bytes ").split("-", 1)[0])
                total = int(content_range.rpartition("/")[2])
            if start != offset:
                raise RuntimeError(
                    f"The server answered bytes from {start} instead of {offset} of {uri}"
                )
            yield ReadSpan(start, total), response

    async def delete(self, uri: URL, *, recursive: bool) -> AsyncIterator[tuple[URL, bool]]:
        """Removes ``uri``; yields each removed entry's URI and whether it was a directory."""
        params = {"op": "DELETE", "recursive": "true" if recursive else "false"}
        headers = {"Accept": NDJSON_MIME}
        async with self._request("DELETE", uri, params, headers=headers) as response:
            if not response.content_type.startswith(NDJSON_MIME):
                return
            async for items in ndjson_batches(response.content):
                for item in items:
                    check_for_server_error(item)
                    yield self.storage_root_uri(uri, item["path"]), bool(item["is_dir"])

    async def rename(self, src: URL, dst: URL) -> None:
        if src.host != dst.host:
            raise ValueError(f"Cannot move {str(src)!r} to another cluster: {str(dst)!r}")
        params = {"op": "RENAME", "destination": dst.path}
        async with self._request("POST", src, params):
            pass

    async def disk_usage(self, uri: URL, cluster_name: str, org_name: str | None) -> DiskUsageInfo:
        async with self._request("GET", uri, {"op": "GETDISKUSAGE"}) as response:
            payload = await response.json()
        return DiskUsageInfo(
            cluster_name=cluster_name,
            org_name=org_name,
            total=int(payload["total"]),
            used=int(payload["used"]),
            free=int(payload["free"]),
            uri=uri,
        )


def check_for_server_error(item: Mapping[str, Any]) -> None:
    """An in-band ``{"error": ..., "errno": ...}`` item raises OSError or NDJSONError."""
    if "error" in item:
        code = _errno_from(item.get("errno"))
        if code is not None:
            raise OSError(code, str(item["error"]))
        raise NDJSONError(str(item["error"]))


# Enum lookups by value, a dict's instead of the enum call's (a listing makes one per entry).
_FILE_TYPES: Mapping[object, FileStatusType] = {kind.value: kind for kind in FileStatusType}
_ACTIONS: Mapping[object, Action] = {action.value: action for action in Action}


def _file_status(payload: Mapping[str, Any], uri: URL) -> FileStatus:
    kind = payload["type"]
    try:
        file_type = _FILE_TYPES.get(kind, FileStatusType.UNKNOWN)
    except TypeError:  # not hashable: not a type either
        file_type = FileStatusType.UNKNOWN
    permission = payload.get("permission", "read")
    try:
        action = _ACTIONS[permission]
    except (KeyError, TypeError):
        action = Action(permission)  # raises the ValueError of an unknown level
    return FileStatus(
        path=payload["path"],
        size=int(payload["length"]),
        type=file_type,
        modification_time=int(payload["modificationTime"]),
        permission=action,
        uri=uri,
        target=payload.get("target"),
    )
