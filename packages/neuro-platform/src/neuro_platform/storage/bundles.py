"""Bundles: many small files of one directory in one request, as a tar archive.

An extension of docs/protocol.md §5 for our SDK (the original client never sends it): CREATETAR
(PUT on a directory, a tar body) writes each member as its own atomic CREATE would, and
OPENTAR (POST on a directory, `{"names": [...]}`) answers the named small files as a tar.
With thousands of 4 KiB files the per-request cost, not the bytes, is what a transfer
spends its time on; a bundle pays it once per directory instead of once per file.

Only plain regular files directly inside the directory travel: a member with a path, a
link, a device or any other type is refused as a whole request, before anything is written.
"""

from __future__ import annotations

import errno
import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import StorageError
from .paths import StoragePath

MAX_BUNDLE_BYTES = 32 * 1024 * 1024  # a request body or answer holds at most this much
MAX_BUNDLE_FILES = 4096


@dataclass(frozen=True)
class BundledFile:
    name: str
    content: bytes
    modification_time: int = 0  # unix seconds; set in answers, ignored in uploads


def read_bundle(body: bytes, directory: StoragePath) -> list[BundledFile]:
    """The files of a CREATETAR body, each checked to be a plain name and a regular file."""
    files: list[BundledFile] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:") as archive:
            for member in archive:
                if len(files) >= MAX_BUNDLE_FILES:
                    raise _invalid(f"A bundle holds at most {MAX_BUNDLE_FILES} files", directory)
                if not member.isreg():
                    raise _invalid(f"Bundle member {member.name!r} is not a file", directory)
                if StoragePath.parse(member.name).parts != (member.name,):
                    raise _invalid(f"Bundle member {member.name!r} is not a plain name", directory)
                extracted = archive.extractfile(member)
                assert extracted is not None  # regular members always have content
                files.append(BundledFile(member.name, extracted.read()))
    except tarfile.TarError as e:
        raise _invalid(f"The body is not a tar archive: {e}", directory) from None
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise _invalid("A bundle names a file twice", directory)
    return files


def write_bundle(files: Iterable[BundledFile]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for file in files:
            member = tarfile.TarInfo(file.name)
            member.size = len(file.content)
            member.mtime = file.modification_time
            archive.addfile(member, io.BytesIO(file.content))
    return buffer.getvalue()


def _invalid(text: str, directory: StoragePath) -> StorageError:
    return StorageError(errno.EINVAL, text, str(directory))
