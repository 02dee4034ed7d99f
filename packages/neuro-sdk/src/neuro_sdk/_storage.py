"""Storage API (docs/protocol.md §5): ``Client.storage``.

This module is the documented facade; the requests live in ``_storage_remote``, the
transfers in ``_transfer``, glob in ``_storage_glob`` and the entities in
``_storage_entities``.
"""

import errno
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from collections.abc import Set as AbstractSet
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from yarl import URL

from ._config import Config
from ._core import _Core
from ._local_side import check_local_target_file, local_source_dir, local_source_file
from ._org import ORG_NAME_SENTINEL, OrgName, resolve_org
from ._storage_entities import (
    AbstractDeleteProgress,
    AbstractFileProgress,
    AbstractRecursiveFileProgress,
    DiskUsageInfo,
    FileStatus,
    FileStatusType,
    StorageProgressComplete,
    StorageProgressDelete,
    StorageProgressEnterDir,
    StorageProgressFail,
    StorageProgressLeaveDir,
    StorageProgressStart,
    StorageProgressStep,
)
from ._storage_glob import Globber
from ._storage_remote import RemoteStorage, check_for_server_error
from ._uris import STORAGE_SCHEME, home_path, local_uri_to_path

if TYPE_CHECKING:
    from ._transfer import Transfers

__all__ = [
    "AbstractDeleteProgress",
    "AbstractFileProgress",
    "AbstractRecursiveFileProgress",
    "DiskUsageInfo",
    "FileStatus",
    "FileStatusType",
    "Storage",
    "StorageProgressComplete",
    "StorageProgressDelete",
    "StorageProgressEnterDir",
    "StorageProgressFail",
    "StorageProgressLeaveDir",
    "StorageProgressStart",
    "StorageProgressStep",
]


class Storage:
    """Storage subsystem, available as ``Client.storage``."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._config = config
        self._remote = RemoteStorage(core, config)
        # The globber walks the pattern's own form (short stays short, as the original's
        # matches do); each request goes out normalised.
        remote = self._remote
        self._globber = Globber(
            lambda uri: remote.list(remote.normalize(uri)),
            lambda uri: remote.stat_or_none(remote.normalize(uri)),
        )

    @functools.cached_property
    def _transfers(self) -> "Transfers":
        # Made, and its module imported (with the bundles, filters and spliced bodies), on
        # the first copy or open: `ls`, `mkdir`, `rm` never need them.
        from ._transfer import Transfers, TransferSettings

        return Transfers(self._remote, TransferSettings())

    # -- remote filesystem operations --------------------------------------------------------

    @asynccontextmanager
    async def glob(self, uri: URL, *, dironly: bool = False) -> AsyncIterator[AsyncIterator[URL]]:
        """The URIs that match ``uri``'s wildcards, in the form ``uri`` is written in."""
        self._remote.normalize(uri)  # a malformed or non-storage pattern fails here
        yield self._globber.glob(uri, dironly=dironly)

    @asynccontextmanager
    async def list(self, uri: URL) -> AsyncIterator[AsyncIterator[FileStatus]]:
        statuses = self._remote.list(self._remote.normalize(uri))
        try:
            yield statuses
        finally:
            await statuses.aclose()

    async def mkdir(self, uri: URL, *, parents: bool = False, exist_ok: bool = False) -> None:
        uri = self._remote.normalize(uri)
        if not exist_ok and await self._remote.stat_or_none(uri) is not None:
            raise FileExistsError(errno.EEXIST, "File exists", str(uri))
        if not parents:
            await self._require_dir(uri.parent)
        await self._remote.mkdirs(uri)

    async def _require_dir(self, uri: URL) -> None:
        """What is created at a child of (normalised) ``uri`` needs it to be a directory."""
        status = await self._remote.stat_or_none(uri)
        if status is None:
            raise FileNotFoundError(errno.ENOENT, "No such directory", str(uri))
        if not status.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(uri))

    async def mv(self, src: URL, dst: URL) -> None:
        await self._remote.rename(self._remote.normalize(src), self._remote.normalize(dst))

    async def rm(
        self,
        uri: URL,
        *,
        recursive: bool = False,
        progress: AbstractDeleteProgress | None = None,
    ) -> None:
        async for removed, is_dir in self._remote.delete(
            self._remote.normalize(uri), recursive=recursive
        ):
            if progress is not None:
                progress.delete(StorageProgressDelete(removed, is_dir))

    async def stat(self, uri: URL) -> FileStatus:
        return await self._remote.stat(self._remote.normalize(uri))

    async def disk_usage(
        self,
        cluster_name: str | None = None,
        org_name: OrgName = ORG_NAME_SENTINEL,
        uri: URL | None = None,
    ) -> DiskUsageInfo:
        """Usage of the storage holding ``uri`` (default: the user's home in the org)."""
        org = resolve_org(org_name, self._config)
        if uri is None:
            cluster_name = cluster_name or self._config.cluster_name
            home = home_path(self._config.username, org)
            uri = URL.build(scheme=STORAGE_SCHEME, host=cluster_name, path=home)
        else:
            uri = self._remote.normalize(uri)
            cluster_name = uri.host or self._config.cluster_name
        return await self._remote.disk_usage(uri, cluster_name, org)

    def check_for_server_error(self, server_message: Mapping[str, Any]) -> None:
        """Raise what an in-band error item of a storage stream means (OSError with the
        ``errno`` it names, else NDJSONError); nothing for any other item."""
        check_for_server_error(server_message)

    # -- file operations -------------------------------------------------------------------

    async def create(self, uri: URL, data: AsyncIterator[bytes]) -> None:
        await self._remote.create(self._remote.normalize(uri), data)

    async def write(self, uri: URL, data: bytes, offset: int) -> None:
        if not data:
            raise ValueError("write() needs non-empty data")
        await self._remote.write(self._remote.normalize(uri), offset, len(data), data)

    @asynccontextmanager
    async def open(
        self, uri: URL, offset: int = 0, size: int | None = None
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        if size == 0:
            yield _empty()
            return
        async with self._remote.open(self._remote.normalize(uri), offset, size) as (_, answer):
            yield answer.content.iter_chunked(self._transfers.settings.block_size)

    # -- copy operations -------------------------------------------------------------------

    async def upload_file(
        self,
        src: URL,
        dst: URL,
        *,
        update: bool = False,
        continue_: bool = False,
        progress: AbstractFileProgress | None = None,
    ) -> None:
        from ._transfer import NO_PROGRESS, resume_offset, staged_offset, staging_uri

        path, info = local_source_file(src)
        dst = self._remote.normalize(dst)
        remote = await self._remote.stat_or_none(dst)
        if remote is not None and remote.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(dst))
        if remote is None:
            await self._require_dir(dst.parent)
        offset = resume_offset(
            src_size=info.st_size,
            src_mtime=info.st_mtime,
            dst_size=remote.size if remote is not None else None,
            dst_mtime=(
                remote.modification_time - self._remote.time_diff if remote is not None else None
            ),
            update=update,
            continue_=continue_,
        )
        resumed = None
        staging = staging_uri(dst)
        if continue_ and offset == 0 and staging is not None:  # an interrupted staged upload
            resumed = staged_offset(
                src_size=info.st_size,
                src_mtime=info.st_mtime,
                staged=await self._remote.stat_or_none(staging),
                time_diff=self._remote.time_diff,
            )
        if resumed is not None:
            await self._transfers.upload(
                path,
                dst,
                size=info.st_size,
                offset=resumed,
                progress=progress or NO_PROGRESS,
                staged=True,
            )
        elif offset is not None:
            await self._transfers.upload(
                path, dst, size=info.st_size, offset=offset, progress=progress or NO_PROGRESS
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
        from ._transfer import NO_PROGRESS, resume_offset

        src = self._remote.normalize(src)
        path = local_uri_to_path(dst)
        remote = await self._remote.stat(src)
        if remote.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory, use recursive copy", str(src))
        check_local_target_file(path)
        local = path.stat() if path.exists() else None
        offset = resume_offset(
            src_size=remote.size,
            src_mtime=remote.modification_time - self._remote.time_diff,
            dst_size=local.st_size if local is not None else None,
            dst_mtime=local.st_mtime if local is not None else None,
            update=update,
            continue_=continue_,
        )
        if offset is not None:
            await self._transfers.download(
                src, path, size=remote.size, offset=offset, progress=progress or NO_PROGRESS
            )

    async def upload_dir(
        self,
        src: URL,
        dst: URL,
        *,
        update: bool = False,
        continue_: bool = False,
        filter: Callable[[str], Awaitable[bool]] | None = None,
        ignore_file_names: AbstractSet[str] = frozenset(),
        progress: AbstractRecursiveFileProgress | None = None,
    ) -> None:
        from ._transfer import NO_PROGRESS

        await self._transfers.upload_tree(
            local_source_dir(src),
            self._remote.normalize(dst),
            update=update,
            continue_=continue_,
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
        from ._transfer import NO_PROGRESS

        src = self._remote.normalize(src)
        remote = await self._remote.stat(src)
        if not remote.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(src))
        await self._transfers.download_tree(
            src,
            local_uri_to_path(dst),
            update=update,
            continue_=continue_,
            filter=filter,
            progress=progress or NO_PROGRESS,
        )


async def _empty() -> AsyncIterator[bytes]:
    return
    yield  # an async generator that yields nothing
