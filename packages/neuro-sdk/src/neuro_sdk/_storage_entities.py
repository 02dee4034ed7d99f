"""What the Storage API hands back: file statuses, disk usage, and progress events.

All of them are frozen dataclasses; progress is reported by calling the ABCs below, which
callers implement (the CLI draws rich progress bars with them, the SDK never draws)."""

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass

from yarl import URL

from ._users import Action


class FileStatusType(enum.StrEnum):
    DIRECTORY = "DIRECTORY"
    FILE = "FILE"
    SYMLINK = "SYMLINK"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class FileStatus:
    """A remote file or directory.

    ``path`` is the entry's name in a listing and its absolute storage path from ``stat``
    (as the wire protocol answers); ``uri`` is always the full ``storage://`` URI.
    """

    path: str
    size: int
    type: FileStatusType
    modification_time: int
    permission: Action
    uri: URL
    target: str | None = None

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rpartition("/")[2]

    def is_file(self) -> bool:
        return self.type is FileStatusType.FILE

    def is_dir(self) -> bool:
        return self.type is FileStatusType.DIRECTORY

    def is_symlink(self) -> bool:
        return self.type is FileStatusType.SYMLINK


@dataclass(frozen=True)
class DiskUsageInfo:
    cluster_name: str
    total: int
    used: int
    free: int
    org_name: str | None = None
    uri: URL | None = None


@dataclass(frozen=True)
class StorageProgressStart:
    src: URL
    dst: URL
    size: int


@dataclass(frozen=True)
class StorageProgressStep:
    src: URL
    dst: URL
    current: int
    size: int


@dataclass(frozen=True)
class StorageProgressComplete:
    src: URL
    dst: URL
    size: int


@dataclass(frozen=True)
class StorageProgressEnterDir:
    src: URL
    dst: URL


@dataclass(frozen=True)
class StorageProgressLeaveDir:
    src: URL
    dst: URL


@dataclass(frozen=True)
class StorageProgressFail:
    src: URL
    dst: URL
    message: str


@dataclass(frozen=True)
class StorageProgressDelete:
    uri: URL
    is_dir: bool


class AbstractFileProgress(ABC):
    """Progress of one file's upload or download."""

    @abstractmethod
    def start(self, data: StorageProgressStart) -> None: ...

    @abstractmethod
    def step(self, data: StorageProgressStep) -> None: ...

    @abstractmethod
    def complete(self, data: StorageProgressComplete) -> None: ...


class AbstractRecursiveFileProgress(AbstractFileProgress):
    """Progress of a directory's upload or download: the files' events plus these."""

    @abstractmethod
    def enter(self, data: StorageProgressEnterDir) -> None: ...

    @abstractmethod
    def leave(self, data: StorageProgressLeaveDir) -> None: ...

    @abstractmethod
    def fail(self, data: StorageProgressFail) -> None: ...


class AbstractDeleteProgress(ABC):
    """Progress of ``Storage.rm``: one event per removed entry, children first."""

    @abstractmethod
    def delete(self, data: StorageProgressDelete) -> None: ...
