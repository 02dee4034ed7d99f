"""Storage paths: the validated, normalised path of a file below a cluster's storage root.

A storage path is only ever a tuple of plain names. It is built from the URL path that
aiohttp has already percent-decoded once, and is never decoded again, so `%2e%2e` arrives as
`..` (refused) while `%252e%252e` stays the literal, harmless name `%2e%2e`. Empty segments
collapse (`//etc` is `etc` under the storage root, never the host's `/etc`); `.`/`..`
segments, NUL bytes and over-long names are refused rather than interpreted.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from .errors import StorageError

# Uploads in progress live beside their target under this prefix (see filesystem.py); users
# can neither see nor address such names, so a half-written file is never visible.
PARTIAL_UPLOAD_PREFIX = ".neuro-partial-"
NAME_MAX_BYTES = 255  # Linux NAME_MAX
PATH_MAX_PARTS = 512  # deep enough for any real tree, bounded so a request cannot exhaust fds


@dataclass(frozen=True, order=True)
class StoragePath:
    parts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> StoragePath:
        parts = tuple(part for part in text.split("/") if part)
        for part in parts:
            _check_name(part, text)
        if len(parts) > PATH_MAX_PARTS:
            raise StorageError(errno.ENAMETOOLONG, "Path is too deep", _display(parts))
        return cls(parts)

    @property
    def is_root(self) -> bool:
        return not self.parts

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else ""

    @property
    def parent(self) -> StoragePath:
        return StoragePath(self.parts[:-1])

    def child(self, name: str) -> StoragePath:
        return StoragePath((*self.parts, name))

    def is_within(self, other: StoragePath) -> bool:
        return self.parts[: len(other.parts)] == other.parts

    def __str__(self) -> str:
        """The absolute storage path clients see, e.g. `/alice/data/x`."""
        return _display(self.parts)


def is_hidden_partial_upload(name: str) -> bool:
    return name.startswith(PARTIAL_UPLOAD_PREFIX)


def _check_name(part: str, text: str) -> None:
    if part in (".", ".."):
        raise StorageError(errno.EINVAL, "Path must not contain '.' or '..' segments", text)
    if "\x00" in part:
        shown = text.replace("\x00", "")
        raise StorageError(errno.EINVAL, "Path must not contain NUL bytes", shown)
    if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX_BYTES:
        raise StorageError(errno.ENAMETOOLONG, "File name too long", text)
    if is_hidden_partial_upload(part):
        reserved = f"Names starting with {PARTIAL_UPLOAD_PREFIX!r} are reserved"
        raise StorageError(errno.EINVAL, reserved, text)


def _display(parts: tuple[str, ...]) -> str:
    return "/" + "/".join(parts)
