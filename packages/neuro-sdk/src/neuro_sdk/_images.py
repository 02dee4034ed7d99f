"""Images API (docs/protocol.md §6): the platform registry over HTTP, push and pull through
the local Docker Engine.

Registry calls speak Docker Registry HTTP API v2 to the cluster's ``registry_url`` with
``Basic <username>:<JWT>``; push and pull drive the local engine (aiodocker), which then
talks to the registry itself with ``token:<JWT>``. aiodocker is imported only by push and
pull, so that naming the progress classes stays cheap.
"""

import abc
import base64
import builtins
import contextlib
import json
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from yarl import URL

from ._config import Config
from ._core import _Core
from ._errors import (
    AuthenticationError,
    AuthorizationError,
    IllegalArgumentError,
    ResourceNotFound,
)
from ._images_refs import DEFAULT_TAG, LocalImage, RemoteImage, TagOption
from ._parser import image_ref_parser

if TYPE_CHECKING:
    import aiodocker

REPOS_PER_PAGE = 30
TAGS_PER_PAGE = 30
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
NO_ENGINE_MESSAGE = (
    "Docker engine is not available. "
    "Please specify DOCKER_HOST variable if you are using remote docker engine"
)
# What a path segment of a registry URL may hold: a tag or a digest, never a slash or "..".
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
# Registry errors the engine reports in its progress stream (the HTTP answer was 200).
_DENIED_RE = re.compile(r"\bdenied\b|\b403\b|forbidden", re.IGNORECASE)
_UNAUTHORIZED_RE = re.compile(r"unauthorized|authentication required|\b401\b", re.IGNORECASE)
_NOT_FOUND_RE = re.compile(r"manifest unknown|not found|does not exist", re.IGNORECASE)


@dataclass(frozen=True)
class Tag:
    """A tag of a platform image and, when asked for, the size of its layers."""

    name: str
    size: int | None = None


@dataclass(frozen=True)
class ImageProgressPull:
    src: RemoteImage
    dst: LocalImage


@dataclass(frozen=True)
class ImageProgressPush:
    src: LocalImage
    dst: RemoteImage


@dataclass(frozen=True)
class ImageProgressSave:
    """``Jobs.save`` started: the job's container goes to ``dst``."""

    job: str
    dst: RemoteImage


@dataclass(frozen=True)
class ImageProgressStep:
    """One object of the engine's progress stream (a layer's state, or a plain message)."""

    message: str
    layer_id: str
    status: str
    current: float | None
    total: float | None


@dataclass(frozen=True)
class ImageCommitStarted:
    job_id: str
    target_image: RemoteImage


@dataclass(frozen=True)
class ImageCommitFinished:
    job_id: str


class AbstractDockerImageProgress(abc.ABC):
    """Callbacks for ``Images.push``/``pull`` (and ``Jobs.save``).

    The reference documents ``pull``, ``push`` and ``step``; the ``save`` and commit
    callbacks of the original package do nothing unless overridden, so a progress class
    written against the reference keeps working.
    """

    @abc.abstractmethod
    def pull(self, data: ImageProgressPull) -> None: ...

    @abc.abstractmethod
    def push(self, data: ImageProgressPush) -> None: ...

    @abc.abstractmethod
    def step(self, data: ImageProgressStep) -> None: ...

    def save(self, data: ImageProgressSave) -> None:  # noqa: B027
        pass

    def commit_started(self, data: ImageCommitStarted) -> None:  # noqa: B027
        pass

    def commit_finished(self, data: ImageCommitFinished) -> None:  # noqa: B027
        pass


class _NoProgress(AbstractDockerImageProgress):
    def pull(self, data: ImageProgressPull) -> None:
        pass

    def push(self, data: ImageProgressPush) -> None:
        pass

    def step(self, data: ImageProgressStep) -> None:
        pass


class Images:
    """Docker image subsystem, available as ``Client.images``."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config

    # Registry over HTTP

    async def list(self, cluster_name: str | None = None) -> list[RemoteImage]:
        """The images (without tags) on the cluster's registry that the user may read."""
        cluster = cluster_name or self._config.cluster_name
        parser = image_ref_parser(self._config, cluster)
        url = self._registry_base(cluster) / "_catalog"
        result: list[RemoteImage] = []
        async for repo in self._pages(url, REPOS_PER_PAGE, "repositories"):
            # The catalog lists paths like ``[org/]owner/name``; a repository that is not
            # a valid image name (nothing our platform pushes) is skipped.
            with contextlib.suppress(ValueError):
                result.append(parser.parse_remote(f"image://{cluster}/{repo}", TagOption.DENY))
        return result

    async def tags(self, image: RemoteImage) -> builtins.list[RemoteImage]:
        """``image`` (given without a tag) once per tag it has on the registry."""
        self._check_platform_image(image)
        if image.tag is not None:
            raise ValueError(f"Invalid image {image}: tag is not allowed")
        url = self._repository_url(image) / "tags" / "list"
        result: builtins.list[RemoteImage] = []
        async for tag in self._pages(url, TAGS_PER_PAGE, "tags", image=image):
            result.append(replace(image, tag=tag))
        return result

    async def digest(self, remote: RemoteImage) -> str:
        url = self._manifest_url(remote, self._checked_tag(remote))
        async with self._registry_request("HEAD", url, remote) as response:
            return str(response.headers["Docker-Content-Digest"])

    async def tag_info(self, remote: RemoteImage) -> Tag:
        tag = self._checked_tag(remote)
        async with self._registry_request("GET", self._manifest_url(remote, tag), remote) as resp:
            manifest = await resp.json(content_type=None)
        layers = manifest.get("layers") if isinstance(manifest, dict) else None
        if not isinstance(layers, list):
            raise ValueError(f"Image {remote} has no image manifest v2 with layers")
        return Tag(name=tag, size=sum(int(layer.get("size", 0)) for layer in layers))

    async def size(self, remote: RemoteImage) -> int:
        """The sum of the sizes of the image's (compressed) layers, in bytes."""
        return (await self.tag_info(remote)).size or 0

    async def rm(self, remote: RemoteImage, digest: str) -> None:
        """Delete the manifest ``digest`` of ``remote`` (every tag that points to it goes)."""
        self._check_platform_image(remote)
        if not _DIGEST_RE.fullmatch(digest):
            raise ValueError(f"Invalid image digest {digest!r}")
        async with self._registry_request("DELETE", self._manifest_url(remote, digest), remote):
            pass

    # Push and pull through the local Docker Engine

    async def push(
        self,
        local: LocalImage,
        remote: RemoteImage | None = None,
        *,
        progress: AbstractDockerImageProgress | None = None,
    ) -> RemoteImage:
        """Push ``local`` to ``remote`` (default: the same name in the user's namespace)."""
        local = LocalImage(local.name, local.tag or DEFAULT_TAG)
        remote = self._local_to_remote(local) if remote is None else remote
        self._check_platform_image(remote)
        if remote.tag is None:
            remote = replace(remote, tag=DEFAULT_TAG)
        progress = progress or _NoProgress()
        auth = await self._docker_auth()
        reference = remote.as_docker_url()
        async with _docker() as docker:
            missing = f"Image {local} was not found in your local docker images"
            added = await _add_tag(docker, str(local), reference, missing)
            try:
                progress.push(ImageProgressPush(local, remote))
                stream = docker.images.push(reference, auth=auth, stream=True)
                await _follow(stream, progress, remote, reference)
            finally:
                if added:
                    await _remove_tag(docker, reference)
        return remote

    async def pull(
        self,
        remote: RemoteImage,
        local: LocalImage | None = None,
        *,
        progress: AbstractDockerImageProgress | None = None,
    ) -> LocalImage:
        """Pull ``remote`` into the local engine as ``local`` (default: its name and tag)."""
        self._check_platform_image(remote)
        if remote.tag is None:
            remote = replace(remote, tag=DEFAULT_TAG)
        local = LocalImage(remote.name, remote.tag) if local is None else local
        local = LocalImage(local.name, local.tag or DEFAULT_TAG)
        progress = progress or _NoProgress()
        auth = await self._docker_auth()
        progress.pull(ImageProgressPull(remote, local))
        reference = remote.as_docker_url()
        async with _docker() as docker:
            had_reference = await _exists(docker, reference)
            try:
                stream = docker.images.pull(reference, auth=auth, stream=True)
                await _follow(stream, progress, remote, reference)
                await docker.images.tag(reference, local.name, tag=local.tag)
            finally:
                # The registry's name for the image is ours to remove, the user's is not.
                if not had_reference and reference != str(local):
                    await _remove_tag(docker, reference)
        return local

    # Helpers

    def _local_to_remote(self, local: LocalImage) -> RemoteImage:
        parser = image_ref_parser(self._config)
        first = local.name.partition("/")[0]
        if first in parser.registry_hosts.values():
            # Already named after a platform registry, e.g. 127.0.0.1:8080/alice/app.
            return parser.parse_remote(str(local))
        return RemoteImage.new_neuro_image(
            local.name,
            parser.registry_host,
            owner=self._config.username,
            cluster_name=parser.cluster_name,
            org_name=self._config.org_name,
            tag=local.tag,
        )

    @staticmethod
    def _check_platform_image(image: RemoteImage) -> None:
        # The token goes only to the platform's registry, never to Docker Hub or another.
        if not image.is_in_platform_registry:
            raise ValueError(
                f"Image {image} is not in the platform registry (use image:NAME[:TAG])"
            )

    @staticmethod
    def _checked_tag(image: RemoteImage) -> str:
        Images._check_platform_image(image)
        if image.tag is None:
            raise ValueError(f"Invalid image {image}: a tag is required")
        if not _TAG_RE.fullmatch(image.tag):
            raise ValueError(f"Invalid image tag {image.tag!r}")
        return image.tag

    def _registry_base(self, cluster: str) -> URL:
        clusters = self._config.clusters
        if cluster not in clusters:
            raise ValueError(f"Unknown cluster {cluster!r}")
        return clusters[cluster].registry_url.with_path("/v2/")

    def _repository_url(self, image: RemoteImage) -> URL:
        assert image.cluster_name is not None
        base = self._registry_base(image.cluster_name)
        org = f"{image.org_name}/" if image.org_name else ""
        return base.with_path(f"{base.path}{org}{image.owner}/{image.name}")

    def _manifest_url(self, image: RemoteImage, reference: str) -> URL:
        return self._repository_url(image) / "manifests" / reference

    async def _registry_auth(self) -> str:
        credentials = f"{self._config.username}:{await self._config.token()}"
        return "Basic " + base64.b64encode(credentials.encode()).decode("ascii")

    async def _docker_auth(self) -> dict[str, str]:
        return {"username": "token", "password": await self._config.token()}

    @contextlib.asynccontextmanager
    async def _registry_request(
        self, method: str, url: URL, image: RemoteImage | None, *, params: Any = None
    ) -> AsyncIterator[Any]:
        auth = await self._registry_auth()
        headers = {"Accept": MANIFEST_V2}
        async with self._core.request(
            method, url, auth=auth, headers=headers, params=params, check=False
        ) as response:
            if response.status >= 400:
                body = await response.text() if method != "HEAD" else ""
                raise _registry_error(response.status, body, image)
            yield response

    async def _pages(
        self, url: URL, per_page: int, key: str, *, image: RemoteImage | None = None
    ) -> AsyncIterator[str]:
        """The items under ``key`` of each page of a registry listing, following
        ``Link: <...>; rel="next"`` until there is none or a page is empty."""
        origin = url.origin()
        next_url = url.update_query(n=str(per_page))
        while True:
            async with self._registry_request("GET", next_url, image) as response:
                payload = await response.json(content_type=None)
                link = response.links.get("next")
            items = payload.get(key) if isinstance(payload, dict) else None
            if not items:  # a repository without tags has "tags": null
                return
            for item in items:
                yield str(item)
            if not link:
                return
            next_url = url.join(URL(str(link["url"])))
            # The credentials never follow a link to another host.
            if next_url.origin() != origin:
                raise ValueError(f"The registry's next page {next_url} is on another host")


def _registry_error(status: int, body: str, image: RemoteImage | None) -> Exception:
    """An error answer of the registry: its JSON ``errors`` list, or the platform's
    ``{"error": ...}``, as the SDK's exception for the status."""
    message = ""
    with contextlib.suppress(ValueError, TypeError, AttributeError, KeyError):
        payload = json.loads(body)
        if isinstance(payload, dict) and "errors" in payload:
            message = "; ".join(str(e.get("message") or e.get("code")) for e in payload["errors"])
        elif isinstance(payload, dict) and "error" in payload:
            message = str(payload["error"])
    what = f"image {image}" if image is not None else "the registry"
    detail = f": {message}" if message else ""
    if status == 401:
        return AuthenticationError(f"Not authorized to access {what}{detail or ': bad token'}")
    if status == 403:
        return AuthorizationError(f"Access denied to {what}{detail}")
    if status == 404:
        return ResourceNotFound(f"Image {image} was not found in the registry")
    return IllegalArgumentError(f"The registry refused the request ({status}){detail}")


# The local Docker Engine


@contextlib.asynccontextmanager
async def _docker() -> AsyncIterator["aiodocker.Docker"]:
    import aiodocker

    try:
        docker = aiodocker.Docker()
    except ValueError as exc:  # neither DOCKER_HOST nor a local socket
        raise aiodocker.DockerError(900, NO_ENGINE_MESSAGE) from exc
    try:
        yield docker
    except aiodocker.DockerError as exc:
        if exc.status == 900:  # aiodocker's "cannot connect"
            raise aiodocker.DockerError(900, f"{NO_ENGINE_MESSAGE} ({exc.message})") from exc
        raise
    finally:
        await docker.close()


async def _exists(docker: "aiodocker.Docker", reference: str) -> bool:
    import aiodocker

    try:
        await docker.images.inspect(reference)
    except aiodocker.DockerError as exc:
        if exc.status == 404:
            return False
        raise
    return True


async def _add_tag(docker: "aiodocker.Docker", source: str, reference: str, missing: str) -> bool:
    """Tag ``source`` as ``reference``; True when the tag is new (and so ours to remove)."""
    import aiodocker

    existed = await _exists(docker, reference)
    name, _, tag = reference.rpartition(":")
    try:
        await docker.images.tag(source, name, tag=tag)
    except aiodocker.DockerError as exc:
        if exc.status == 404:
            raise ValueError(missing) from exc
        raise
    return not existed and reference != source


async def _remove_tag(docker: "aiodocker.Docker", reference: str) -> None:
    import aiodocker

    # Untag only: the image itself stays under the user's own name.
    with contextlib.suppress(aiodocker.DockerError):
        await docker.images.delete(reference, noprune=True)


async def _follow(
    stream: AsyncIterator[dict[str, Any]],
    progress: AbstractDockerImageProgress,
    remote: RemoteImage,
    reference: str,
) -> None:
    """Report each progress object; map the engine's failures to the SDK's errors."""
    import aiodocker

    try:
        async for item in stream:
            step = _progress_step(item, remote.tag)
            if step is not None:
                progress.step(step)
    except aiodocker.DockerError as exc:
        raise _engine_error(exc, remote) from exc


def _engine_error(exc: "aiodocker.DockerError", remote: RemoteImage) -> Exception:
    message = str(exc.message)
    # An HTTP status from the engine, or 0 when the error came inside the stream.
    if exc.status == 403 or (exc.status in (0, 500) and _DENIED_RE.search(message)):
        return AuthorizationError(f"Access denied to image {remote}")
    if exc.status == 401 or (exc.status in (0, 500) and _UNAUTHORIZED_RE.search(message)):
        return AuthenticationError(f"Not authorized to access image {remote}: {message}")
    if exc.status == 404 or (exc.status in (0, 500) and _NOT_FOUND_RE.search(message)):
        return ValueError(f"Image {remote} was not found in the registry")
    return exc


def _progress_step(item: Mapping[str, Any], tag: str | None) -> ImageProgressStep | None:
    if "error" in item:
        import aiodocker

        detail = item.get("errorDetail") or {}
        raise aiodocker.DockerError(0, str(detail.get("message") or item["error"]))
    layer = item.get("id")
    status = str(item.get("status", ""))
    if layer is None or layer == tag:
        # Not a layer: "The push refers to repository ...", "<tag>: digest: ...".
        return None
    text = f"{layer}: {status}"
    if item.get("progress"):
        text += f" {item['progress']}"
    detail = item.get("progressDetail") or {}
    return ImageProgressStep(text, str(layer), status, detail.get("current"), detail.get("total"))
