"""Turning the URIs users write into canonical ones (docs/protocol.md §5, "Addressing").

* ``storage:path`` and ``storage:~/path`` are relative to the user's home,
  ``storage://<cluster>/[<org>/]<user>/path``; ``storage:/path`` is absolute in the current
  cluster; ``storage://cluster/path`` is already canonical.
* ``file:path`` is relative to the working directory, ``file:~/path`` to the home
  directory; canonical local URIs are ``file:///absolute/path``.
"""

import posixpath
from pathlib import Path

from yarl import URL

STORAGE_SCHEME = "storage"
FILE_SCHEME = "file"


def normalize_storage_uri(uri: URL, *, cluster: str, username: str, org: str | None) -> URL:
    """The canonical ``storage://cluster/...`` form of a storage URI."""
    if uri.scheme != STORAGE_SCHEME:
        raise ValueError(f"Invalid storage URI {str(uri)!r}: the scheme must be 'storage:'")
    if uri.query_string or uri.fragment:
        raise ValueError(f"Invalid storage URI {str(uri)!r}: no query or fragment allowed")
    path = uri.path
    if uri.host:
        cluster = uri.host
    elif not path.startswith("/"):
        home = f"/{org}/{username}" if org is not None else f"/{username}"
        if path == "~" or path.startswith("~/"):
            path = path[1:]
        path = f"{home}/{path}"
    return URL.build(scheme=STORAGE_SCHEME, host=cluster, path=_clean_path(path))


def storage_path(uri: URL) -> str:
    """The absolute path under the cluster's storage root of a canonical storage URI."""
    return uri.path


def normalize_local_uri(uri: URL) -> URL:
    """The canonical ``file:///absolute`` form of a local URI."""
    if uri.scheme != FILE_SCHEME:
        raise ValueError(f"Invalid local URI {str(uri)!r}: the scheme must be 'file:'")
    if uri.host not in (None, "", "localhost"):
        raise ValueError(f"Invalid local URI {str(uri)!r}: only local files are supported")
    return local_path_to_uri(Path(uri.path))


def local_path_to_uri(path: Path) -> URL:
    absolute = Path(posixpath.normpath(path.expanduser().absolute()))
    return URL.build(scheme=FILE_SCHEME, host="", path=str(absolute))


def local_uri_to_path(uri: URL) -> Path:
    return Path(normalize_local_uri(uri).path)


def uri_from_cli(text: str, *, cluster: str, username: str, org: str | None) -> URL:
    """A URI from a command line argument: plain paths are local files."""
    if text.startswith(f"{STORAGE_SCHEME}:"):
        return normalize_storage_uri(URL(text), cluster=cluster, username=username, org=org)
    if text.startswith(f"{FILE_SCHEME}:"):
        return normalize_local_uri(URL(text))
    return local_path_to_uri(Path(text))


def _clean_path(path: str) -> str:
    # "." and duplicate slashes go; ".." is resolved here so that "storage:../bob" means
    # bob's home, but never above the root (the server refuses traversal on its own too).
    return posixpath.normpath("/" + path.lstrip("/"))
