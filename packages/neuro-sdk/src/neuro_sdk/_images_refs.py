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

from ._uris import FRAGMENT_NOT_ALLOWED, QUERY_NOT_ALLOWED

IMAGE_SCHEME = "image"
INVALID_IMAGE_NAME = "INVALID-IMAGE-NAME"

# The Docker reference grammar (distribution/reference), without the digest part.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DOMAIN_RE = re.compile(r"(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::[0-9]+)?")

# The original SDK's words for each mistake; the public parsers put
# "Invalid local image '<text>': " or "Invalid remote image '<text>': " before them.
_EMPTY = "empty image name"
DEFAULT_TAG = "latest"  # what Docker uses for an image named without a tag
_EMPTY_PART = "empty name or empty tag"
_TOO_MANY_TAGS = "too many tags"
_NO_NAME = "no image name specified"
_BAD_NAME = (
    "invalid image name. Docker specifies it to be the following:\n"
    "Name components may contain lowercase letters, digits and separators. "
    "A separator is defined as a period, one or two underscores, or one or more dashes. "
    "A name component may not start or end with a separator."
)


class _Mistake(ValueError):
    """Why a reference is malformed, before the parser says which reference it was."""


class UnknownClusterError(RuntimeError, ValueError):
    """A cluster missing from the config: RuntimeError as in the original SDK, and a
    ValueError as every other malformed input here (the CLI reports those in one line)."""

    def __init__(self, cluster: str, known: Collection[str]) -> None:
        super().__init__(
            f"Cluster {cluster} doesn't exist in a list of available clusters "
            f"{list(known)}. Please logout and login again."
        )


class TagOption(enum.Enum):
    """Whether a parsed image may or must not carry a tag.

    As the original's: ``DEFAULT`` fills in ``latest`` when the tag is left out (what Docker
    would use), ``ALLOW`` keeps a platform image without a tag untagged (``neuro image rm``:
    the whole repository), ``DENY`` refuses a tag (``neuro image tags`` wants a repository).
    An external (non-platform) image, like a local one, always gets ``latest`` when it has
    no tag, whatever the option.
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
    if reference.startswith(":") or reference.endswith(":"):
        raise _Mistake(_EMPTY_PART)
    colons = reference.count(":")
    # At most a registry port and a tag, and a port only before a "/".
    if colons > 2 or (colons == 2 and "/" not in reference):
        raise _Mistake(_TOO_MANY_TAGS)
    last_slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > last_slash:
        tag = reference[colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise _Mistake(f"invalid image tag {tag!r}")
        return reference[:colon], tag
    return reference, None


def _check_name(name: str) -> None:
    # A digest ("name@sha256:...") fails here too, as in the original.
    if not _NAME_RE.fullmatch(name):
        raise _Mistake(_BAD_NAME)


def _check_reference(text: str) -> None:
    if not text:
        raise _Mistake(_EMPTY)
    if text.startswith("-"):
        raise _Mistake("image cannot start with dash")
    if text == f"{IMAGE_SCHEME}:latest":
        raise _Mistake("ambiguous value: valid as both local and remote image name")


def _split_local(text: str) -> tuple[str, str | None]:
    _check_reference(text)
    if text.startswith(f"{IMAGE_SCHEME}:"):
        raise _Mistake("scheme 'image://' is not allowed for local images")
    name, tag = _split_tag(text)
    return name, tag


def parse_local_image(text: str) -> LocalImage:
    try:
        name, tag = _split_local(text)
        _check_name(name)
    except _Mistake as exc:
        raise ValueError(f"Invalid local image '{text}': {exc}") from None
    return LocalImage(name=name, tag=tag or DEFAULT_TAG)


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
            raise ValueError(f"Invalid remote image '{text}': tag is not allowed")
        if image.tag is None and (
            tag_option is TagOption.DEFAULT or not image.is_in_platform_registry
        ):
            return replace(image, tag=DEFAULT_TAG)
        return image

    def _is_platform_reference(self, text: str) -> bool:
        return text.startswith(f"{IMAGE_SCHEME}:") or any(
            text.startswith(f"{host}/") for host in self.registry_hosts.values()
        )

    def _parse_remote(self, text: str) -> RemoteImage:
        # As the original: a platform image's mistakes are a "remote image"'s, any other
        # reference is checked as a local (Docker) one first.
        if self._is_platform_reference(text):
            try:
                return self._parse_platform(text)
            except _Mistake as exc:
                raise ValueError(f"Invalid remote image '{text}': {exc}") from None
        try:
            return self._parse_external(text)
        except _Mistake as exc:
            raise ValueError(f"Invalid local image '{text}': {exc}") from None

    def _parse_platform(self, text: str) -> RemoteImage:
        _check_reference(text)
        if text.startswith(f"{IMAGE_SCHEME}:"):
            return self._parse_platform_uri(text)
        name, tag = _split_tag(text)
        first, _, rest = name.partition("/")
        cluster = next(c for c, host in self.registry_hosts.items() if host == first)
        return self._platform_image(cluster, rest, tag)

    def _parse_external(self, text: str) -> RemoteImage:
        name, tag = _split_local(text)
        first, _, rest = name.partition("/")
        registry: str | None = None
        # Docker's rule: a first component with a dot, a port or "localhost" is a host.
        if rest and ("." in first or ":" in first or first == "localhost"):
            if not _DOMAIN_RE.fullmatch(first):
                raise _Mistake(_BAD_NAME)
            registry, name = first, rest
        _check_name(name)
        return RemoteImage.new_external_image(name, registry, tag=tag)

    def parse_docker_url(self, text: str) -> RemoteImage:
        """The image a job reports; what cannot be parsed is shown as INVALID-IMAGE-NAME."""
        try:
            return self.parse_remote(text)
        except ValueError:
            return RemoteImage(name=INVALID_IMAGE_NAME)

    def _parse_platform_uri(self, text: str) -> RemoteImage:
        # yarl drops an empty "?" or "#": the text is what the user wrote.
        if "#" in text:
            raise _Mistake(FRAGMENT_NOT_ALLOWED.format(scheme=IMAGE_SCHEME))
        if "?" in text:
            raise _Mistake(QUERY_NOT_ALLOWED.format(scheme=IMAGE_SCHEME))
        uri = URL(text)
        if not uri.path.strip("/"):
            raise _Mistake(_NO_NAME)
        path, tag = _split_tag(uri.path)
        if uri.host:
            return self._platform_image(uri.host, path.lstrip("/"), tag)
        if path.startswith("/"):
            return self._platform_image(self.cluster_name, path.lstrip("/"), tag)
        if path.startswith("~/"):
            path = path[2:]
        org = f"{self.org_name}/" if self.org_name else ""
        return self._platform_image(self.cluster_name, f"{org}{self.username}/{path}", tag)

    def _platform_image(self, cluster: str, path: str, tag: str | None) -> RemoteImage:
        parts = path.split("/")
        org: str | None = None
        if len(parts) > 2 and parts[0] in self.cluster_orgs.get(cluster, ()):
            org, parts = parts[0], parts[1:]
        if len(parts) < 2 or not all(parts):
            raise _Mistake(_NO_NAME)
        owner, name = parts[0], "/".join(parts[1:])
        _check_name(name)
        registry = self.registry_hosts.get(cluster)
        if registry is None:
            raise UnknownClusterError(cluster, self.registry_hosts)
        return RemoteImage.new_neuro_image(
            name, registry, owner=owner, cluster_name=cluster, org_name=org, tag=tag
        )
