"""The URI and volume forms of ``Parser`` (reference: Parser): long and short URIs, local
paths, and ``--volume`` definitions of storage, secrets and disks.

Long form: ``scheme://<cluster>/[<org>/]<user>/path``. Short form: ``scheme:path`` when the
cluster, org and user are the current ones. ``file:`` URIs are always absolute.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from yarl import URL

from ._jobs_entities import DiskVolume, SecretFile, Volume
from ._jobs_wire import normalize_user_uri
from ._url_utils import (
    FILE_SCHEME,
    STORAGE_SCHEME,
    local_path_to_uri,
    local_uri_to_path,
    normalize_local_uri,
    normalize_storage_uri,
)

SECRET_SCHEME = "secret"
DISK_SCHEME = "disk"
READ_ONLY, READ_WRITE = "ro", "rw"


@dataclass(frozen=True)
class UriContext:
    cluster: str
    username: str
    org: str | None


def normalize_uri(
    uri: URL, context: UriContext, *, allowed_schemes: Iterable[str] = (), short: bool = False
) -> URL:
    allowed = tuple(allowed_schemes)
    if not uri.scheme:
        raise ValueError(f"URI {str(uri)!r} has no scheme")
    if allowed and uri.scheme not in allowed:
        raise ValueError(
            f"Unsupported URI scheme {uri.scheme!r} in {str(uri)!r}: "
            f"allowed are {', '.join(repr(s) for s in allowed)}"
        )
    if uri.scheme == FILE_SCHEME:
        return normalize_local_uri(uri)
    if uri.scheme == STORAGE_SCHEME:
        long = normalize_storage_uri(
            uri, cluster=context.cluster, username=context.username, org=context.org
        )
    else:
        if uri.query_string or uri.fragment:
            raise ValueError(f"Invalid URI {str(uri)!r}: no query or fragment allowed")
        long = normalize_user_uri(
            uri, cluster=context.cluster, username=context.username, org=context.org
        )
    return _shorten(long, context) if short else long


def str_to_uri(
    text: str, context: UriContext, *, allowed_schemes: Iterable[str] = (), short: bool = False
) -> URL:
    """A URI, or a local path (made a ``file:`` URI) when the text has no scheme."""
    if not text:
        raise ValueError("Empty URI")
    scheme, sep, _ = text.partition(":")
    if sep and scheme.isidentifier() and len(scheme) > 1:  # "C:" stays a path
        uri = URL(text)
    else:
        uri = local_path_to_uri(Path(text))
    return normalize_uri(uri, context, allowed_schemes=allowed_schemes, short=short)


def uri_to_path(uri: URL) -> Path:
    if uri.scheme != FILE_SCHEME:
        raise ValueError(f"Invalid local URI {str(uri)!r}: the scheme must be 'file:'")
    return local_uri_to_path(uri)


def _shorten(uri: URL, context: UriContext) -> URL:
    if uri.host != context.cluster:
        return uri
    home = f"/{context.org}/{context.username}" if context.org else f"/{context.username}"
    if uri.path == home:
        return URL.build(scheme=uri.scheme, path="")
    if uri.path.startswith(home + "/"):
        return URL.build(scheme=uri.scheme, path=uri.path[len(home) + 1 :])
    return uri


def _split_mode(text: str) -> tuple[str, bool | None]:
    """``...:ro`` / ``...:rw`` → (rest, read_only); no flag → (text, None)."""
    rest, sep, flag = text.rpartition(":")
    if sep and flag in (READ_ONLY, READ_WRITE):
        return rest, flag == READ_ONLY
    return text, None


def _split_destination(text: str, definition: str) -> tuple[str, str]:
    source, sep, destination = text.rpartition(":")
    if not sep or not source or not destination.startswith("/"):
        raise ValueError(
            f"Invalid volume specification {definition!r}: expected SOURCE:/CONTAINER/PATH[:ro]"
        )
    return source, destination


def parse_volume(text: str, context: UriContext) -> Volume:
    rest, read_only = _split_mode(text)
    source, destination = _split_destination(rest, text)
    uri = normalize_uri(URL(source), context, allowed_schemes=(STORAGE_SCHEME,))
    return Volume(uri, destination, bool(read_only))


def parse_secret_file(text: str, context: UriContext) -> SecretFile:
    source, destination = _split_destination(text, text)
    raw = URL(source)
    if not raw.path.strip("/") or raw.path.endswith("/"):
        raise ValueError(f"Invalid secret volume {text!r}: the secret key is missing")
    uri = normalize_uri(raw, context, allowed_schemes=(SECRET_SCHEME,))
    return SecretFile(uri, destination)


def parse_disk_volume(text: str, context: UriContext) -> DiskVolume:
    rest, read_only = _split_mode(text)
    source, destination = _split_destination(rest, text)
    raw = URL(source)
    if not raw.path.strip("/") or raw.path.endswith("/"):
        raise ValueError(f"Invalid disk volume {text!r}: the disk id or name is missing")
    uri = normalize_uri(raw, context, allowed_schemes=(DISK_SCHEME,))
    return DiskVolume(uri, destination, bool(read_only))
