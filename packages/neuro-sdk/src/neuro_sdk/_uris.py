"""The one set of rules for the URIs users write (docs/protocol.md §5, "Addressing").

Everything that turns text or a ``URL`` into a canonical URI goes through here: ``Parser``
(``client.parse``, the public face of these rules), storage, the job wire format and the CLI.

* Long form: ``scheme://<cluster>/[<org>/]<user>/path``, kept as given (cleaned).
* Short form ``scheme:path`` (or ``scheme:~/path``): relative to the user's own tree, the
  *home* ``/[<org>/]<user>`` on the current cluster; ``scheme:/path`` is absolute in the
  current cluster. This holds for every scheme: ``storage:``, ``secret:``, ``disk:``,
  ``image:``, ``job:``...
* ``file:`` URIs are canonical as ``file:///absolute/path``; ``file:path`` is relative to the
  working directory and ``file:~/path`` to the home directory.
* Text without a scheme is a local path. A scheme is RFC 3986's (a letter, then letters,
  digits, ``+``, ``-``, ``.``) of two characters or more, so ``C:\\x`` stays a path; a local
  file whose name looks like ``name:rest`` is written ``./name:rest``.
* Paths are cleaned (``.``, ``..``, duplicate slashes) and never rise above the cluster's root:
  ``storage:../bob`` is bob's home. An encoded ``/`` (``%2F``), a NUL, a query, a fragment,
  a user, a password or a port are refused: none of them can name a resource.
"""

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from yarl import URL

FILE_SCHEME = "file"
STORAGE_SCHEME = "storage"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+")
_ENCODED_SLASH = re.compile(r"%2f", re.IGNORECASE)


@dataclass(frozen=True)
class UriContext:
    """Where short forms point: the current cluster, user and org (None: no org)."""

    cluster: str
    username: str
    org: str | None


def home_path(username: str, org: str | None) -> str:
    """A user's own tree under a cluster root: ``/<org>/<user>``, or ``/<user>`` without org."""
    return f"/{org}/{username}" if org else f"/{username}"


def has_scheme(text: str) -> bool:
    scheme, sep, _ = text.partition(":")
    return bool(sep) and _SCHEME.fullmatch(scheme) is not None


def str_to_uri(
    text: str, context: UriContext, *, allowed_schemes: Iterable[str] = (), short: bool = False
) -> URL:
    """A URI, or a local path (made a ``file:`` URI) when the text has no scheme."""
    if not text:
        raise ValueError("Empty URI")
    if "\0" in text:
        raise ValueError(f"Invalid URI {text!r}: NUL characters are not allowed")
    if has_scheme(text):
        uri = URL(text)
        # yarl drops an empty "?" or "#": the text still asked for one.
        if "?" in text or "#" in text:
            raise ValueError(
                f"Invalid URI {text!r}: no query or fragment allowed "
                "(write '?' as %3F and '#' as %23)"
            )
    else:
        uri = local_path_to_uri(Path(text))
    return normalize_uri(uri, context, allowed_schemes=allowed_schemes, short=short)


def normalize_uri(
    uri: URL, context: UriContext, *, allowed_schemes: Iterable[str] = (), short: bool = False
) -> URL:
    """The long form of ``uri`` (see the module docstring); with ``short``, the short form
    where the cluster, org and user are the current ones."""
    allowed = tuple(allowed_schemes)
    if not uri.scheme:
        raise ValueError(f"URI {str(uri)!r} has no scheme")
    if allowed and uri.scheme not in allowed:
        raise ValueError(
            f"Unsupported URI scheme {uri.scheme!r} in {str(uri)!r}: "
            f"allowed are {', '.join(repr(s) for s in allowed)}"
        )
    _check_parts(uri)
    if uri.scheme == FILE_SCHEME:
        return _normalize_local(uri)
    path = uri.path
    cluster = uri.host or context.cluster
    if not uri.host and not path.startswith("/"):
        if path == "~" or path.startswith("~/"):
            path = path[1:]
        path = f"{home_path(context.username, context.org)}/{path}"
    # `role://alice` names the role itself: nothing to clean, no "/" to add.
    clean = "" if uri.host and not path else _clean(path)
    long = URL.build(scheme=uri.scheme, host=cluster, path=clean)
    return shorten(long, context) if short else long


def shorten(uri: URL, context: UriContext) -> URL:
    """``scheme:path`` for a URI in the current user's tree; any other URI unchanged."""
    if uri.scheme == FILE_SCHEME or uri.host != context.cluster:
        return uri
    home = home_path(context.username, context.org)
    if uri.path == home:
        return URL.build(scheme=uri.scheme, path="")
    if uri.path.startswith(home + "/"):
        return URL.build(scheme=uri.scheme, path=uri.path[len(home) + 1 :])
    return uri


def local_path_to_uri(path: Path) -> URL:
    """``file:///absolute/path`` of a local path (``~`` expanded, ``..`` resolved)."""
    absolute = Path(posixpath.normpath(path.expanduser().absolute()))
    return URL.build(scheme=FILE_SCHEME, host="", path=str(absolute))


def local_uri_to_path(uri: URL) -> Path:
    """The local path of a ``file:`` URI; ValueError for any other scheme."""
    if uri.scheme != FILE_SCHEME:
        raise ValueError(f"Invalid local URI {str(uri)!r}: the scheme must be 'file:'")
    _check_parts(uri)
    return Path(_normalize_local(uri).path)


def _normalize_local(uri: URL) -> URL:
    if uri.host not in (None, "", "localhost"):
        raise ValueError(f"Invalid local URI {str(uri)!r}: only local files are supported")
    return local_path_to_uri(Path(uri.path))


def _check_parts(uri: URL) -> None:
    if uri.query_string or uri.fragment:
        raise ValueError(
            f"Invalid URI {str(uri)!r}: no query or fragment allowed "
            "(write '?' as %3F and '#' as %23)"
        )
    if uri.user is not None or uri.password is not None or uri.explicit_port is not None:
        raise ValueError(f"Invalid URI {str(uri)!r}: no user, password or port allowed")
    # A name never holds '/' or NUL: decoded, `a%2F..%2F..` would be cleaned as a path
    # that the user never wrote, and NUL ends a name in the operating system.
    if _ENCODED_SLASH.search(uri.raw_path) or "\0" in uri.path or "\0" in (uri.host or ""):
        raise ValueError(f"Invalid URI {str(uri)!r}: an encoded '/' or a NUL is not allowed")


def _clean(path: str) -> str:
    # "." and duplicate slashes go; ".." is resolved here so that "storage:../bob" means
    # bob's home, but never above the root (the server refuses traversal on its own too).
    return posixpath.normpath("/" + path.lstrip("/"))
