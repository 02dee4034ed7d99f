"""Storage domain rules: who may do what to which path of one cluster's storage.

Every operation is checked against `storage://<cluster>/<path>`: reads (OPEN, LISTSTATUS,
GETFILESTATUS, GETDISKUSAGE) need `read`, mutations need `write` (RENAME on both ends).
Listings use the permission tree, so a directory the caller can only `list` (because
something below it is shared with them) shows just the children on the way to what they hold.
A caller's own home (`/<user>`) springs into existence on first use.
"""

from __future__ import annotations

import errno
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from ..permissions import Permission, PermissionDeniedError, PermissionService, PermissionTree
from ..permissions.actions import Action
from ..permissions.uris import ResourceUri, owner_parts
from .bundles import MAX_BUNDLE_BYTES, MAX_BUNDLE_FILES, BundledFile
from .entries import DiskUsage, FileInfo, RemovedEntry
from .errors import StorageError
from .filesystem import LocalFilesystem, OpenedFile
from .paths import StoragePath
from .quota import StorageQuota
from .socket_body import SocketBody

STORAGE_SCHEME = "storage"


@dataclass(frozen=True)
class VisibleFile:
    """A file as one caller sees it: its metadata and the action they hold on it."""

    info: FileInfo
    action: Action


class StorageService:
    def __init__(
        self,
        cluster_name: str,
        filesystem: LocalFilesystem,
        permissions: PermissionService,
        quota: StorageQuota | None = None,
    ) -> None:
        self._cluster_name = cluster_name
        self._filesystem = filesystem
        self._permissions = permissions
        self._quota = quota

    def uri(self, path: StoragePath) -> ResourceUri:
        return ResourceUri(STORAGE_SCHEME, (self._cluster_name, *path.parts))

    async def stat(self, user: str, path: StoragePath) -> VisibleFile:
        await self._ensure_home(user, path)
        action = await self._action(user, path, Action.LIST)
        return VisibleFile(await self._filesystem.stat(path), action)

    async def list(self, user: str, path: StoragePath) -> AsyncIterator[VisibleFile]:
        await self._ensure_home(user, path)
        tree = await self._permissions.tree(user, self.uri(path))
        if not tree.action.satisfies(Action.LIST):
            raise PermissionDeniedError([Permission(self.uri(path), Action.READ)])
        async for info in self._filesystem.list(path):
            action = _child_action(tree, info.name)
            if action is not None:
                yield VisibleFile(info, action)

    async def mkdirs(self, user: str, path: StoragePath) -> None:
        await self._require(user, Action.WRITE, path)
        await self._filesystem.mkdirs(path)

    async def create(
        self, user: str, path: StoragePath, content: AsyncIterable[bytes] | bytes
    ) -> int:
        await self._require(user, Action.WRITE, path)
        if self._quota is not None:
            replaced = await self._size_or_zero(path)
            if isinstance(content, bytes):
                await self._quota.admit(path, len(content) - replaced)
            else:
                content = self._quota.metered(path, content, replaced)
        with self._recount_on_failure(path):
            return await self._filesystem.create(path, content)

    async def create_files(
        self, user: str, directory: StoragePath, files: Sequence[BundledFile]
    ) -> None:
        """Creates each file in `directory`; write is required on every one of them."""
        await self._require(user, Action.WRITE, *(directory.child(f.name) for f in files))
        if self._quota is not None:  # counted whole, even where a file is replaced
            await self._quota.admit(directory, sum(len(f.content) for f in files))
        await self._filesystem.create_files(directory, files)

    async def read_files(
        self, user: str, directory: StoragePath, names: Sequence[str], limit: int
    ) -> Sequence[BundledFile]:
        """The named files of `directory` the caller may read, of at most `limit` bytes
        each and MAX_BUNDLE_BYTES in all; the client reads the others one by one (and
        learns then why one is missing)."""
        if len(names) > MAX_BUNDLE_FILES:
            raise StorageError(
                errno.EINVAL, f"A bundle holds at most {MAX_BUNDLE_FILES} files", str(directory)
            )
        grants = await self._permissions.grant_set(user, {STORAGE_SCHEME})
        readable = [
            name
            for name in names
            if (action := grants.action_on(self.uri(directory.child(name)))) is not None
            and action.satisfies(Action.READ)
        ]
        files = await self._filesystem.read_files(directory, readable, limit)
        return _within_bundle_size(files)

    async def write(
        self,
        user: str,
        path: StoragePath,
        offset: int,
        length: int,
        content: AsyncIterable[bytes] | SocketBody,
    ) -> None:
        await self._require(user, Action.WRITE, path)
        if self._quota is not None:
            await self._quota.admit(path, offset + length - await self._size_or_zero(path))
        with self._recount_on_failure(path):
            await self._filesystem.write(path, offset, length, content)

    @asynccontextmanager
    async def open(self, user: str, path: StoragePath) -> AsyncIterator[tuple[OpenedFile, Action]]:
        action = await self._action(user, path, Action.READ)
        async with self._filesystem.open(path) as opened:
            yield opened, action

    async def remove(
        self, user: str, path: StoragePath, *, recursive: bool
    ) -> AsyncIterator[RemovedEntry]:
        await self._require(user, Action.WRITE, path)
        try:
            async for entry in self._filesystem.remove(path, recursive=recursive):
                yield entry
        finally:
            if self._quota is not None:
                self._quota.forget(path)

    async def rename(self, user: str, source: StoragePath, destination: StoragePath) -> None:
        await self._require(user, Action.WRITE, source, destination)
        await self._filesystem.rename(source, destination)
        if self._quota is not None:
            self._quota.forget(source)
            self._quota.forget(destination)

    async def disk_usage(self, user: str, path: StoragePath) -> DiskUsage:
        await self._ensure_home(user, path)
        await self._action(user, path, Action.LIST)
        return await self._filesystem.disk_usage()

    @contextmanager
    def _recount_on_failure(self, path: StoragePath) -> Iterator[None]:
        """A write that failed may have stored less than the quota admitted for it."""
        try:
            yield
        except BaseException:
            if self._quota is not None:
                self._quota.forget(path)
            raise

    async def _size_or_zero(self, path: StoragePath) -> int:
        try:
            return (await self._filesystem.stat(path)).length
        except StorageError as e:
            if e.code != errno.ENOENT:
                raise
            return 0

    async def _require(self, user: str, action: Action, *paths: StoragePath) -> None:
        await self._permissions.require(user, [Permission(self.uri(p), action) for p in paths])

    async def _action(self, user: str, path: StoragePath, required: Action) -> Action:
        """The caller's action on `path`, which must satisfy `required`.

        `list` is enough to see a path's metadata: it is what lets a listing show the path.
        Refusals always name `read`, the action a client would ask to be granted.
        """
        grants = await self._permissions.grant_set(user, {STORAGE_SCHEME})
        action = grants.action_on(self.uri(path))
        if action is None or not action.satisfies(required):
            raise PermissionDeniedError([Permission(self.uri(path), Action.READ)])
        return action

    async def _ensure_home(self, user: str, path: StoragePath) -> None:
        # For requests on the caller's home or above it (`ls`, `ls storage:/`, `df`): a
        # fresh user sees an empty home instead of "not found". Paths inside a missing
        # home are rightly missing themselves.
        home = StoragePath(owner_parts(user))
        if home.is_within(path):
            await self._filesystem.mkdirs(home)


def _within_bundle_size(files: Sequence[BundledFile]) -> Sequence[BundledFile]:
    total = 0
    for index, file in enumerate(files):
        total += len(file.content)
        if total > MAX_BUNDLE_BYTES:
            return files[:index]
    return files


def _child_action(tree: PermissionTree, name: str) -> Action | None:
    """What the caller holds on a listed child, or None when they may not see it."""
    child = tree.children.get(name)
    if child is not None:
        return child.action if child.action.satisfies(Action.LIST) else None
    # No grant below the listed directory names this child: it inherits the directory's
    # own action, which must be more than `list` to reveal children nobody shared.
    return tree.action if tree.action.satisfies(Action.READ) else None
