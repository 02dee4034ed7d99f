"""Image references: ``RemoteImage`` (Docker Hub or the platform registry) and ``LocalImage``.

Users write platform images as ``image:name[:tag]`` (in their own namespace),
``image:/[org/]owner/name[:tag]`` (in the current cluster) or
``image://cluster/[org/]owner/name[:tag]``; the platform registry knows them as
``<registry-host>/[org/]owner/name[:tag]`` (docs/protocol.md §3.1). Anything else is an external
image such as ``ubuntu:22.04`` or ``ghcr.io/org/tool:1``.
"""

import enum
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from yarl import URL

IMAGE_SCHEME = "image"
INVALID_IMAGE_NAME = "INVALID-IMAGE-NAME"

# The Docker reference grammar (distribution/reference), without the digest part.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DOMAIN_RE = re.compile(r"(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::[0-9]+)?")


class TagOption(enum.Enum):
    """Whether a parsed image may or must not carry a tag.

    ``DEFAULT`` takes the tag as written (none when omitted; Docker then uses ``latest``),
    ``ALLOW`` is the same, ``DENY`` refuses a tag (e.g. ``neuro image tags`` wants a
    repository, not one of its tags).
    """

    ALLOW = enum.auto()
    DENY = enum.auto()
    DEFAULT = enum.auto()


@dataclass(frozen=True)
class LocalImage:
    """An image of the local Docker Engine."""

    name: str
    tag: str | None = None

    def __str__(self) -> str:
        return f"{self.name}:{self.tag}" if self.tag else self.name


@dataclass(frozen=True)
class RemoteImage:
    """An image in a remote registry: the platform's (with an owner) or another one."""

    name: str
    tag: str | None = None
    owner: str | None = None
    registry: str | None = None
    cluster_name: str | None = None
    org_name: str | None = None

    def __post_init__(self) -> None:
        # A platform image needs all three to be addressable; an external one none of the
        # last two.
        if (self.owner or self.cluster_name) and not (
            self.owner and self.cluster_name and self.registry
        ):
            raise ValueError(
                "A platform image needs an owner, a cluster name and a registry together"
            )

    @classmethod
    def new_neuro_image(
        cls,
        name: str,
        registry: str,
        *,
        owner: str,
        cluster_name: str,
        org_name: str | None = None,
        tag: str | None = None,
    ) -> "RemoteImage":
        return cls(
            name=name,
            tag=tag,
            owner=owner,
            registry=registry,
            cluster_name=cluster_name,
            org_name=org_name,
        )

    @classmethod
    def new_external_image(
        cls, name: str, registry: str | None = None, *, tag: str | None = None
    ) -> "RemoteImage":
        return cls(name=name, tag=tag, registry=registry)

    def with_tag(self, tag: str) -> "RemoteImage":
        """The same image with ``tag``; ValueError if it is not a valid Docker tag."""
        if not _TAG_RE.fullmatch(tag):
            raise ValueError(f"Invalid image tag {tag!r}")
        return replace(self, tag=tag)

    @property
    def is_in_platform_registry(self) -> bool:
        return self.owner is not None

    def _path(self) -> str:
        org = f"{self.org_name}/" if self.org_name else ""
        return f"{org}{self.owner}/{self.name}"

    def as_docker_url(self, with_scheme: bool = False) -> str:
        """The reference Docker (and the job's container) uses to pull the image."""
        tag = f":{self.tag}" if self.tag else ""
        if self.is_in_platform_registry:
            prefix = "https://" if with_scheme else ""
            return f"{prefix}{self.registry}/{self._path()}{tag}"
        registry = f"{self.registry}/" if self.registry else ""
        return f"{registry}{self.name}{tag}"

    def __str__(self) -> str:
        if self.is_in_platform_registry:
            tag = f":{self.tag}" if self.tag else ""
            return f"{IMAGE_SCHEME}://{self.cluster_name}/{self._path()}{tag}"
        return self.as_docker_url()


def _split_tag(reference: str) -> tuple[str, str | None]:
    """``name[:tag]`` → (name, tag); a colon inside the registry host is not a tag."""
    last_slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > last_slash:
        tag = reference[colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise ValueError(f"Invalid image tag {tag!r} in {reference!r}")
        return reference[:colon], tag
    return reference, None


def _check_name(name: str, reference: str) -> None:
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"Invalid image name {reference!r}")


def parse_local_image(text: str) -> LocalImage:
    if text.startswith(f"{IMAGE_SCHEME}:"):
        raise ValueError(f"Local image {text!r} must not use the '{IMAGE_SCHEME}:' scheme")
    if "@" in text:
        raise ValueError(f"Invalid local image {text!r}: digests are not supported")
    name, tag = _split_tag(text)
    _check_name(name, text)
    return LocalImage(name=name, tag=tag)


@dataclass(frozen=True)
class ImageRefParser:
    """Parses image references in the context of one cluster and one user."""

    cluster_name: str
    username: str
    org_name: str | None
    registry_host: str
    # Every cluster's registry host, to recognise platform images of any cluster.
    registry_hosts: Mapping[str, str]
    # The orgs of every cluster, to tell ``org/owner/name`` from ``owner/project/name``.
    cluster_orgs: Mapping[str, Collection[str | None]]

    def parse_remote(self, text: str, tag_option: TagOption = TagOption.DEFAULT) -> RemoteImage:
        image = self._parse_remote(text)
        if tag_option is TagOption.DENY and image.tag is not None:
            raise ValueError(f"Invalid image {text!r}: a tag is not allowed here")
        return image

    def _parse_remote(self, text: str) -> RemoteImage:
        if text.startswith(f"{IMAGE_SCHEME}:"):
            return self._parse_platform_uri(text)
        if "@" in text:
            raise ValueError(f"Invalid image {text!r}: digests are not supported")
        name, tag = _split_tag(text)
        first, _, rest = name.partition("/")
        for cluster, host in self.registry_hosts.items():
            if rest and first == host:
                return self._platform_image(cluster, rest, tag, text)
        registry: str | None = None
        # Docker's rule: a first component with a dot, a port or "localhost" is a host.
        if rest and ("." in first or ":" in first or first == "localhost"):
            if not _DOMAIN_RE.fullmatch(first):
                raise ValueError(f"Invalid registry host in image {text!r}")
            registry, name = first, rest
        _check_name(name, text)
        return RemoteImage.new_external_image(name, registry, tag=tag)

    def parse_docker_url(self, text: str) -> RemoteImage:
        """The image a job reports; what cannot be parsed is shown as INVALID-IMAGE-NAME."""
        try:
            return self._parse_remote(text)
        except ValueError:
            return RemoteImage(name=INVALID_IMAGE_NAME)

    def _parse_platform_uri(self, text: str) -> RemoteImage:
        uri = URL(text)
        path, tag = _split_tag(uri.path)
        if uri.host:
            return self._platform_image(uri.host, path.lstrip("/"), tag, text)
        if path.startswith("/"):
            return self._platform_image(self.cluster_name, path.lstrip("/"), tag, text)
        if path.startswith("~/"):
            path = path[2:]
        org = f"{self.org_name}/" if self.org_name else ""
        return self._platform_image(self.cluster_name, f"{org}{self.username}/{path}", tag, text)

    def _platform_image(
        self, cluster: str, path: str, tag: str | None, reference: str
    ) -> RemoteImage:
        registry = self.registry_hosts.get(cluster)
        if registry is None:
            raise ValueError(f"Unknown cluster {cluster!r} in image {reference!r}")
        parts = path.split("/")
        org: str | None = None
        if len(parts) > 2 and parts[0] in self.cluster_orgs.get(cluster, ()):
            org, parts = parts[0], parts[1:]
        if len(parts) < 2 or not all(parts):
            raise ValueError(f"Invalid image {reference!r}: an owner and a name are needed")
        owner, name = parts[0], "/".join(parts[1:])
        _check_name(name, reference)
        return RemoteImage.new_neuro_image(
            name, registry, owner=owner, cluster_name=cluster, org_name=org, tag=tag
        )
