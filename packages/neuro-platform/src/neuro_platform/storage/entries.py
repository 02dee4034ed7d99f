"""What the filesystem layer reports about a file, directory or symlink."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from enum import StrEnum


class FileType(StrEnum):
    FILE = "FILE"
    DIRECTORY = "DIRECTORY"
    SYMLINK = "SYMLINK"
    UNKNOWN = "UNKNOWN"  # sockets, FIFOs, device nodes: listed, never opened

    @classmethod
    def of_mode(cls, mode: int) -> FileType:
        if stat.S_ISREG(mode):
            return cls.FILE
        if stat.S_ISDIR(mode):
            return cls.DIRECTORY
        if stat.S_ISLNK(mode):
            return cls.SYMLINK
        return cls.UNKNOWN


@dataclass(frozen=True)
class FileInfo:
    name: str
    type: FileType
    length: int
    modification_time: int  # unix seconds
    target: str | None = None  # only for symlinks

    @classmethod
    def of_stat(cls, name: str, st: os.stat_result, target: str | None = None) -> FileInfo:
        file_type = FileType.of_mode(st.st_mode)
        return cls(
            name=name,
            type=file_type,
            length=st.st_size if file_type is FileType.FILE else 0,
            modification_time=int(st.st_mtime),
            target=target,
        )


@dataclass(frozen=True)
class RemovedEntry:
    path: str  # absolute storage path
    is_dir: bool


@dataclass(frozen=True)
class DiskUsage:
    total: int
    used: int
    free: int
