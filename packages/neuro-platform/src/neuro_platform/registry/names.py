"""Repository names on our registry, and docker references that point at it.

Repository `[org/]owner/name` on cluster C is the resource `image://C/[org/]owner/name`
(docs/protocol.md §6) and is stored in the private registry as `C/[org/]owner/name`, so
clusters never share a repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yarl import URL

from ..settings import ClusterSettings, Settings

# The path component grammar of the Docker distribution reference: lowercase alphanumerics
# joined by one separator (`.`, `_`, `__` or dashes). It has no room for `..`, `%`, upper case.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*"
# At least `owner/name`: a one-component name would belong to nobody.
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})+")
MAX_NAME_LENGTH = 255
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")


class InvalidRepositoryNameError(ValueError):
    pass


def check_repository(name: str) -> str:
    """The name itself, or InvalidRepositoryNameError (a registry's NAME_INVALID)."""
    if len(name) > MAX_NAME_LENGTH or not _REPOSITORY.fullmatch(name):
        raise InvalidRepositoryNameError(
            f"invalid repository name {name!r}: use lowercase [org/]owner/name"
        )
    return name


def image_uri(cluster: str, repository: str) -> str:
    return f"image://{cluster}/{repository}"


def private_name(cluster: str, repository: str) -> str:
    return f"{cluster}/{repository}"


def registry_authority(url: URL) -> str:
    """`host[:port]` as a docker reference spells it: the port only where it is not the
    scheme's default."""
    host = (url.host or "").lower()
    port = url.explicit_port
    default = {"http": 80, "https": 443}.get(url.scheme)
    return f"{host}:{port}" if port is not None and port != default else host


def cluster_of_host(settings: Settings, host: str) -> ClusterSettings | None:
    """The cluster whose `registry_url` has this authority (a request's Host or the host of
    a docker reference); the first one listed wins where several share it."""
    for cluster in settings.clusters:
        url = settings.cluster_registry_url(cluster)
        try:
            # Read with the cluster's scheme, so `host:443` equals `host` for https.
            wanted = registry_authority(URL(f"{url.scheme}://{host}"))
        except ValueError:
            return None
        if registry_authority(url) == wanted:
            return cluster
    return None


@dataclass(frozen=True)
class ImageReference:
    cluster: str
    repository: str  # `[org/]owner/name`
    tag: str | None
    digest: str | None

    @property
    def uri(self) -> str:
        """`image://<cluster>/[org/]owner/name` (no tag): what permissions are checked on."""
        return image_uri(self.cluster, self.repository)


def image_ref_to_uri(reference: str, settings: Settings) -> ImageReference | None:
    """Parses a docker reference such as `127.0.0.1:8080/alice/img:v1` or
    `registry.example.org/acme/alice/img@sha256:...`.

    None when the reference names no registry of ours (another registry, or no host at
    all, e.g. `ubuntu:22.04`); InvalidRepositoryNameError when it names ours but the rest
    is not a valid `[org/]owner/name[:tag][@digest]`.
    """
    host, slash, rest = reference.partition("/")
    if not slash or not ("." in host or ":" in host or host == "localhost"):
        return None
    cluster = cluster_of_host(settings, host)
    if cluster is None:
        return None
    name, at, digest = rest.partition("@")
    tag: str | None = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = name.rpartition(":")
        if not _TAG.fullmatch(tag):
            raise InvalidRepositoryNameError(f"invalid tag {tag!r} in {reference!r}")
    if at and not _DIGEST.fullmatch(digest):
        raise InvalidRepositoryNameError(f"invalid digest {digest!r} in {reference!r}")
    return ImageReference(
        cluster=cluster.name,
        repository=check_repository(name),
        tag=tag,
        digest=digest if at else None,
    )
