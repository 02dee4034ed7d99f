"""The local side of a copy, for storage and blobs alike: what a source or target on this
machine must be before a transfer starts. The errors (and their wording) are the original
client's, so they are stated once here."""

import errno
import os
from pathlib import Path

from yarl import URL

from ._uris import local_uri_to_path


def local_source_file(src: URL) -> tuple[Path, os.stat_result]:
    """The path of a ``file:`` source to upload and its stat; a directory is refused."""
    path = local_uri_to_path(src)
    info = path.stat()
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory, use recursive copy", str(path))
    return path, info


def local_source_dir(src: URL) -> Path:
    """The path of a ``file:`` source directory to upload; it must exist and be one."""
    path = local_uri_to_path(src)
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(path))
    return path


def check_local_target_file(path: Path) -> None:
    """A file is downloaded to ``path``: an existing directory there is refused."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
