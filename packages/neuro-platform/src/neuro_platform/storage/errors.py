"""Storage failures as the wire protocol reports them: a message plus a symbolic errno.

The SDK turns a 400 carrying `errno` into the matching `OSError` subclass (docs/protocol.md §9), so
the errno is the contract. Messages name the *storage* path (`/alice/x`), never the host path
of the storage root.
"""

from __future__ import annotations

import errno
import os


class StorageError(Exception):
    def __init__(self, code: int, message: str, path: str) -> None:
        super().__init__(f"{message}: {path!r}")
        self.code = code
        self.message = message
        self.path = path

    @property
    def errno_name(self) -> str:
        return errno.errorcode.get(self.code, "EIO")

    @property
    def text(self) -> str:
        return f"{self.message}: {self.path!r}"

    @classmethod
    def from_os_error(cls, error: OSError, path: str) -> StorageError:
        code = error.errno if error.errno is not None else errno.EIO
        if code == errno.ELOOP:
            # O_NOFOLLOW met a symlink: say why instead of "too many levels".
            return cls(code, "Symbolic links are not followed", path)
        return cls(code, os.strerror(code), path)


class DestinationError(StorageError):
    """The destination of a rename is unusable: always 400, even for ENOENT."""
