"""Helpers that parse the CLI's textual definitions: images, env, volumes and URIs."""

# Annotations stay unevaluated: the job entities load with the first volume parsed, not
# with every command that parses a URI (`neuro ls`).
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from yarl import URL

from ._config import Config
from ._images_refs import ImageRefParser, LocalImage, RemoteImage, TagOption, parse_local_image
from ._org import ORG_NAME_SENTINEL, OrgName, resolve_org
from ._storage_glob import has_magic
from ._uris import (
    STORAGE_SCHEME,
    UriContext,
    local_path_to_uri,
    local_uri_to_path,
    normalize_uri,
    str_to_uri,
)

if TYPE_CHECKING:
    from ._jobs_entities import DiskVolume, SecretFile, Volume

SECRET_SCHEME = "secret"
DISK_SCHEME = "disk"
READ_ONLY, READ_WRITE = "ro", "rw"


@dataclass(frozen=True)
class EnvParseResult:
    env: dict[str, str]
    secret_env: dict[str, URL]


@dataclass(frozen=True)
class VolumeParseResult:
    """``--volume`` definitions split by kind (see ``Parser.volumes``)."""

    volumes: Sequence[Volume]
    secret_files: Sequence[SecretFile]
    disk_volumes: Sequence[DiskVolume]


def image_ref_parser(config: Config, cluster_name: str | None = None) -> ImageRefParser:
    """Image parsing in the context of ``cluster_name`` (default: the current cluster)."""
    clusters = config.clusters
    cluster = cluster_name or config.cluster_name
    if cluster not in clusters:
        raise ValueError(f"Unknown cluster {cluster!r}")
    hosts = {
        name: item.registry_url.host_port_subcomponent or "" for name, item in clusters.items()
    }
    return ImageRefParser(
        cluster_name=cluster,
        username=config.username,
        org_name=config.org_name,
        registry_host=hosts[cluster],
        registry_hosts=hosts,
        cluster_orgs={name: item.orgs for name, item in clusters.items()},
    )


def _env_file_lines(path: str) -> Iterator[str]:
    # utf-8-sig: editors on some systems start files with a byte order mark.
    for raw in Path(path).read_text(encoding="utf-8-sig").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            yield line


class Parser:
    """Parsing helpers, available as ``Client.parse``."""

    def __init__(self, config: Config) -> None:
        self._config = config

    def local_image(self, image: str) -> LocalImage:
        """``name[:tag]`` of the local Docker Engine; raises ValueError when malformed."""
        return parse_local_image(image)

    def remote_image(
        self,
        image: str,
        *,
        tag_option: TagOption = TagOption.DEFAULT,
        cluster_name: str | None = None,
    ) -> RemoteImage:
        """``name[:tag]`` (Docker Hub or another registry) or ``image:name[:tag]`` (ours);
        ``tag_option=TagOption.DENY`` refuses a tag."""
        return image_ref_parser(self._config, cluster_name).parse_remote(image, tag_option)

    def envs(
        self,
        env: Sequence[str],
        env_file: Sequence[str] = (),
        cluster_name: str | None = None,
    ) -> EnvParseResult:
        """``NAME=VALUE`` or ``NAME`` (this process's value, default empty) items.

        Files come first, so ``env`` items override them; a value starting with
        ``secret:`` is a secret URI and goes to ``secret_env`` instead.
        """
        lines = [line for path in env_file for line in _env_file_lines(path)]
        lines.extend(env)
        values: dict[str, str] = {}
        for line in lines:
            name, sep, value = line.partition("=")
            name = name.strip()
            if not name:
                raise ValueError(f"Invalid environment variable definition {line!r}")
            values[name] = value if sep else os.environ.get(name, "")
        secrets = {
            name: self._secret_uri(value, cluster_name)
            for name, value in values.items()
            if value.startswith(f"{SECRET_SCHEME}:")
        }
        plain = {name: value for name, value in values.items() if name not in secrets}
        return EnvParseResult(env=plain, secret_env=secrets)

    def _secret_uri(self, text: str, cluster_name: str | None) -> URL:
        return _secret_uri(URL(text), self._uri_context(cluster_name), text)

    # URIs and volumes (reference: Parser). The rules live in _uris, one set for the SDK
    # and the CLI.

    def _uri_context(
        self, cluster_name: str | None, org_name: OrgName = ORG_NAME_SENTINEL
    ) -> UriContext:
        return UriContext(
            cluster=cluster_name or self._config.cluster_name,
            username=self._config.username,
            org=resolve_org(org_name, self._config),
        )

    def volume(
        self,
        volume: str,
        cluster_name: str | None = None,
        org_name: OrgName = ORG_NAME_SENTINEL,
    ) -> Volume:
        """``STORAGE_URI:/CONTAINER/PATH[:ro|:rw]``; writable unless ``ro`` is given."""
        return _parse_volume(volume, self._uri_context(cluster_name, org_name))

    def volumes(self, volume: Sequence[str], cluster_name: str | None = None) -> VolumeParseResult:
        """Storage (``storage:...:/path[:ro]``), secret (``secret:KEY:/path``) and disk
        (``disk:NAME:/path[:ro]``) definitions, each into its own list."""
        for legacy in ("HOME", "ALL"):
            if legacy in volume:
                raise ValueError(f"--volume={legacy} no longer supported")
        context = self._uri_context(cluster_name)
        volumes: list[Volume] = []
        secret_files: list[SecretFile] = []
        disk_volumes: list[DiskVolume] = []
        for item in volume:
            if item.startswith(f"{SECRET_SCHEME}:"):
                secret_files.append(_parse_secret_file(item, context))
            elif item.startswith(f"{DISK_SCHEME}:"):
                disk_volumes.append(_parse_disk_volume(item, context))
            else:
                volumes.append(_parse_volume(item, context))
        return VolumeParseResult(volumes, secret_files, disk_volumes)

    def uri_to_str(self, uri: URL) -> str:
        return str(uri)

    def str_to_uri(
        self,
        id_or_name_or_uri: str,
        *,
        allowed_schemes: Iterable[str] = (),
        cluster_name: str | None = None,
        org_name: OrgName = ORG_NAME_SENTINEL,
        short: bool = False,
    ) -> URL:
        """A URI (``storage:folder``, ``secret:key``...) or, when the text has no scheme, a
        local path, normalised (see ``normalize_uri``).

        A scheme has two characters or more (``C:\\x`` is a path); a local file whose name
        looks like ``name:rest`` is written ``./name:rest``. ValueError for a scheme not in
        ``allowed_schemes``, a query, a fragment, an encoded ``/`` (``%2F``) or a NUL.
        """
        return str_to_uri(
            id_or_name_or_uri,
            self._uri_context(cluster_name, org_name),
            allowed_schemes=allowed_schemes,
            short=short,
        )

    def uri_to_path(self, uri: URL, *, cluster_name: str | None = None) -> Path:
        """The local path of a ``file:`` URI; ValueError for any other scheme."""
        return local_uri_to_path(uri)

    def path_to_uri(self, path: Path) -> URL:
        """The ``file:///absolute/path`` URI of a local path (``~`` expanded)."""
        return local_path_to_uri(path)

    def normalize_uri(
        self,
        uri: URL,
        *,
        allowed_schemes: Iterable[str] = (),
        cluster_name: str | None = None,
        org_name: OrgName = ORG_NAME_SENTINEL,
        short: bool = False,
    ) -> URL:
        """Long form ``scheme://cluster/[org/]user/path``; with ``short``, ``scheme:path``
        where cluster, org and user are the current ones.

        ``scheme:path`` and ``scheme:~/path`` are relative to the user's own tree,
        ``scheme:/path`` is absolute in the cluster; ``.`` and ``..`` are resolved but never
        above the cluster's root. ``file:`` URIs become ``file:///absolute/path``.
        """
        return normalize_uri(
            uri,
            self._uri_context(cluster_name, org_name),
            allowed_schemes=allowed_schemes,
            short=short,
        )

    def is_glob_pattern(self, uri: URL) -> bool:
        """Whether the path of ``uri`` holds ``*``, ``?`` or ``[``, which ``Storage.glob``
        expands; only ``storage:`` URIs are patterns (local paths are the shell's)."""
        return uri.scheme == STORAGE_SCHEME and has_magic(uri.path)


def _split_volume(text: str, resource: str, *, allow_mode: bool) -> tuple[str, str, bool]:
    """``SOURCE:DESTINATION[:ro|:rw]`` → (source, destination, read_only).

    Colons are counted as the original SDK counts them, with its messages: a source is
    ``scheme:path`` or ``scheme://cluster/path``, so a definition has three parts, four with
    a mode. The destination must then be an absolute path (the server's rule, checked here
    so that the mistake is reported before anything is sent).
    """
    parts = text.split(":")
    read_only = False
    if allow_mode and len(parts) == 4:
        if parts[-1] not in (READ_ONLY, READ_WRITE):
            raise ValueError(f"Wrong ReadWrite/ReadOnly mode spec for '{text}'")
        read_only = parts.pop() == READ_ONLY
    elif len(parts) != 3:
        raise ValueError(f"Invalid {resource} specification '{text}'")
    destination = parts.pop()
    if not destination.startswith("/"):
        raise ValueError(
            f"Invalid {resource} specification '{text}': "
            "the container path must be absolute (start with '/')"
        )
    return ":".join(parts), destination, read_only


def _parse_volume(text: str, context: UriContext) -> Volume:
    from ._jobs_entities import Volume

    source, destination, read_only = _split_volume(text, "volume", allow_mode=True)
    uri = normalize_uri(URL(source), context, allowed_schemes=(STORAGE_SCHEME,))
    return Volume(uri, destination, read_only)


def _secret_uri(raw: URL, context: UriContext, text: str) -> URL:
    if not raw.path.strip("/") or raw.path.endswith("/"):
        raise ValueError(f"Invalid secret URI {text!r}: the secret key is missing")
    return normalize_uri(raw, context, allowed_schemes=(SECRET_SCHEME,))


def _parse_secret_file(text: str, context: UriContext) -> SecretFile:
    from ._jobs_entities import SecretFile

    source, destination, _ = _split_volume(text, "secret file", allow_mode=False)
    return SecretFile(_secret_uri(URL(source), context, text), destination)


def _parse_disk_volume(text: str, context: UriContext) -> DiskVolume:
    from ._jobs_entities import DiskVolume

    source, destination, read_only = _split_volume(text, "disk volume", allow_mode=True)
    raw = URL(source)
    if not raw.path.strip("/") or raw.path.endswith("/"):
        raise ValueError(f"Invalid disk volume {text!r}: the disk id or name is missing")
    uri = normalize_uri(raw, context, allowed_schemes=(DISK_SCHEME,))
    return DiskVolume(uri, destination, read_only)
