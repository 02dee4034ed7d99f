"""`/v2/`: the Docker Registry HTTP API v2 of the platform (docs/protocol.md §6).

Every request is authenticated (`auth.py`), its repository `[org/]owner/name` checked against
`image://<cluster>/<repository>` (read for GET/HEAD, write otherwise), then proxied to the
private registry as `<cluster>/<repository>` with both bodies streamed: a layer is never
held in memory. `Location`/`Link` headers and the tags list's `name` are rewritten back to
the public name. `_catalog` is answered here: the private registry's, filtered to the
cluster's repositories the caller may read, paginated with `n`/`last` and `Link`; a page reads
the private catalog from `last` on, only as far as it takes to fill the page.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, MultiDictProxy
from yarl import URL

from ..api.keys import AUTHENTICATOR, PERMISSIONS, SETTINGS
from ..auth.identity import NotAuthenticatedError
from ..permissions import Action, Permission, PermissionService, parse_uri
from ..settings import ClusterSettings
from . import errors
from .auth import registry_user
from .keys import PRIVATE_REGISTRY, UPSTREAM
from .names import (
    InvalidRepositoryNameError,
    check_repository,
    cluster_of_host,
    image_uri,
    private_name,
)
from .private import RegistryUnavailableError

PREFIX = "/v2"
# The name is greedy, as in the registry's own router: `a/blobs/b/blobs/<digest>` is
# repository `a/blobs/b`.
_PATH = re.compile(
    r"/v2/(?P<name>.+)/(?P<rest>tags/list|manifests/[^/]+|blobs/uploads/[^/]*|blobs/[^/]+)"
)
_READ_METHODS = frozenset({"GET", "HEAD"})
_FORWARDED_REQUEST_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Content-Range",
    "Range",
    "If-None-Match",
    "If-Modified-Since",
    "User-Agent",
)
_HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Transfer-Encoding",
        "TE",
        "Trailer",
        "Upgrade",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Content-Length",
        "Date",
        "Server",
        "Location",
        "Link",
    )
)
CATALOG_DEFAULT_PAGE = 100
CATALOG_MAX_PAGE = 1000
_UPSTREAM_CATALOG_PAGE = 1000


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", PREFIX, _answer)
    app.router.add_route("*", PREFIX + "/{tail:.*}", _answer)


async def _answer(request: web.Request) -> web.StreamResponse:
    try:
        return await _handle(request)
    except errors.RegistryError as e:
        return e.response()


def _cluster(request: web.Request) -> ClusterSettings:
    # A cluster with a registry_url of its own is chosen by the Host it is reached at;
    # every other Host (the public origin, an alias of it) means the first cluster.
    settings = request.config_dict[SETTINGS]
    return cluster_of_host(settings, request.host) or settings.clusters[0]


def _public_origin(request: web.Request, cluster: ClusterSettings) -> URL:
    """Where `Link` URLs point: the registry URL the cluster advertises (absolute, as the
    SDK follows them verbatim)."""
    return request.config_dict[SETTINGS].cluster_registry_url(cluster).origin()


async def _handle(request: web.Request) -> web.StreamResponse:
    cluster = _cluster(request)
    try:
        user = await registry_user(request, request.config_dict[AUTHENTICATOR])
    except NotAuthenticatedError as e:
        raise errors.unauthorized(str(e), cluster.name) from None
    raw_path = request.rel_url.raw_path
    if raw_path in (PREFIX, PREFIX + "/"):
        if request.method not in _READ_METHODS:
            raise errors.RegistryError(405, "UNSUPPORTED", "use GET /v2/")
        _private_registry_url_or_503(request)
        response = web.json_response({})
        response.headers[errors.API_VERSION_HEADER] = errors.API_VERSION
        return response
    if raw_path == PREFIX + "/_catalog":
        return await _catalog(request, cluster, user)
    match = _PATH.fullmatch(raw_path)
    if match is None:
        raise errors.RegistryError(404, "UNSUPPORTED", f"no such registry API: {raw_path}")
    repository = _repository(match["name"])
    permissions = request.config_dict[PERMISSIONS]
    action = Action.READ if request.method in _READ_METHODS else Action.WRITE
    if await permissions.check(user, [Permission.of(image_uri(cluster.name, repository), action)]):
        raise errors.denied(f"{user} may not {action} image://{cluster.name}/{repository}")
    query = request.rel_url.query
    if match["rest"].startswith("blobs/uploads/") and ("mount" in query or "from" in query):
        query = await _checked_mount(query, cluster.name, user, permissions)
    upstream_path = f"/v2/{private_name(cluster.name, repository)}/{match['rest']}"
    if match["rest"] == "tags/list":
        return await _tags(request, cluster, upstream_path)
    return await _proxy(request, cluster, upstream_path, query)


def _repository(raw_name: str) -> str:
    # The raw path: `%2F` or `%2E%2E` never decode into a name that passes the check.
    try:
        return check_repository(raw_name)
    except InvalidRepositoryNameError as e:
        raise errors.name_invalid(str(e)) from None


async def _checked_mount(
    query: MultiDictProxy[str], cluster: str, user: str, permissions: PermissionService
) -> MultiDictProxy[str]:
    """A cross-repository blob mount copies a blob from `from` without reading it: it needs
    read on `from` like a pull would. Without it (or with a `from` that is no valid name),
    the mount is dropped and the registry starts a plain upload, as the API allows."""
    source = query.get("from", "")
    allowed = False
    try:
        check_repository(source)
        allowed = not await permissions.check(
            user, [Permission.of(image_uri(cluster, source), Action.READ)]
        )
    except InvalidRepositoryNameError:
        pass
    kept = {k: v for k, v in query.items() if k not in ("mount", "from")}
    if allowed and "mount" in query:
        kept["mount"] = query["mount"]
        kept["from"] = private_name(cluster, source)
    return URL.build(query=kept).query


def _private_registry_url_or_503(request: web.Request) -> None:
    try:
        request.config_dict[PRIVATE_REGISTRY].check_available()
    except RegistryUnavailableError as e:
        raise errors.unavailable(str(e), e.retry_after_s) from None


def _request_headers(request: web.Request) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    accept = request.headers.getall("Accept", [])
    if accept:
        headers["Accept"] = ", ".join(accept)
    for name in _FORWARDED_REQUEST_HEADERS:
        if name in request.headers:
            headers[name] = request.headers[name]
    return headers


def _response_headers(
    upstream: aiohttp.ClientResponse, request: web.Request, cluster: ClusterSettings
) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict(
        (k, v) for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP
    )
    location = upstream.headers.get("Location")
    if location is not None:
        public = _public_path(location, cluster.name)
        if public is not None:
            headers["Location"] = public
    link = upstream.headers.get("Link")
    if link is not None:
        public_link = _public_link(link, request, cluster)
        if public_link is not None:
            headers["Link"] = public_link
    return headers


def _public_path(private: str, cluster: str) -> str | None:
    """`/v2/<cluster>/alice/img/...` -> `/v2/alice/img/...`; None for anything else (a
    header naming another place is dropped rather than passed on)."""
    prefix = f"/v2/{cluster}/"
    if private.startswith(prefix):
        return "/v2/" + private[len(prefix) :]
    return None


_LINK = re.compile(r'<(?P<url>[^>]*)>\s*;\s*rel="?next"?')


def _public_link(link: str, request: web.Request, cluster: ClusterSettings) -> str | None:
    match = _LINK.search(link)
    if match is None:
        return None
    path = _public_path(match["url"], cluster.name)
    if path is None:
        return None
    return f'<{_public_origin(request, cluster)}{path}>; rel="next"'


async def _proxy(
    request: web.Request, cluster: ClusterSettings, path: str, query: MultiDictProxy[str]
) -> web.StreamResponse:
    session = request.config_dict[UPSTREAM]
    registry = request.config_dict[PRIVATE_REGISTRY]
    try:
        async with registry.use() as base:
            url = base.with_path(path, encoded=True).with_query(query)
            data = _pieces(request.content) if request.body_exists else None
            async with session.request(
                request.method,
                url,
                headers=_request_headers(request),
                data=data,
                allow_redirects=False,
            ) as upstream:
                response = web.StreamResponse(
                    status=upstream.status,
                    reason=upstream.reason,
                    headers=_response_headers(upstream, request, cluster),
                )
                if upstream.content_length is not None:
                    response.content_length = upstream.content_length
                await response.prepare(request)
                if request.method != "HEAD":
                    # Whatever has arrived goes on at once: waiting to fill 1 MiB pieces
                    # (`iter_chunked`) cost pulls ~15% against the registry itself.
                    async for chunk in upstream.content.iter_any():
                        await response.write(chunk)
                await response.write_eof()
                return response
    except RegistryUnavailableError as e:
        raise errors.unavailable(str(e), e.retry_after_s) from None
    except aiohttp.ClientError as e:
        raise errors.unavailable(f"the image registry failed: {e}", 5) from None


async def _pieces(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """An upload's body, forwarded piece by piece as it was received (at most one socket read,
    256 KiB, each). Not `content` itself: aiohttp would send it as `iter_any()` does, joining
    everything buffered (up to twice the 1 MiB read buffer) into one new bytes object, which
    the upstream socket cannot take at once, so asyncio copies the rest again into its write
    buffer. Measured on a 200 MB chunked PATCH: ~0.5 -> ~0.4 s of server CPU."""
    async for piece, _ in content.iter_chunks():
        yield piece


async def _tags(request: web.Request, cluster: ClusterSettings, path: str) -> web.Response:
    """The tags list, paginated here (distribution 2.8 ignores `n`/`last` and does not sort)
    and with the public name in its body. A small JSON document: read whole."""
    n = _page_size(request.query.get("n"), default=None)
    last = request.query.get("last", "")
    session = request.config_dict[UPSTREAM]
    registry = request.config_dict[PRIVATE_REGISTRY]
    try:
        async with registry.use() as base:
            url = base.with_path(path, encoded=True)
            async with session.get(url) as upstream:
                body = await upstream.read()
                headers = _response_headers(upstream, request, cluster)
                status = upstream.status
    except RegistryUnavailableError as e:
        raise errors.unavailable(str(e), e.retry_after_s) from None
    except aiohttp.ClientError as e:
        raise errors.unavailable(f"the image registry failed: {e}", 5) from None
    headers.pop("Link", None)
    if status != 200:
        return web.Response(status=status, body=body, headers=headers)
    document = json.loads(body)
    tags = sorted(document.get("tags") or [])
    page = _page(tags, n, last)
    public = path.replace(f"/v2/{cluster.name}/", "/v2/", 1)
    response = web.json_response({"name": public[len("/v2/") : -len("/tags/list")], "tags": page})
    response.headers[errors.API_VERSION_HEADER] = errors.API_VERSION
    if n is not None and page and page[-1] != tags[-1]:
        _link_next(response, request, cluster, public, n, page[-1])
    return response


async def _catalog(request: web.Request, cluster: ClusterSettings, user: str) -> web.Response:
    n = _page_size(request.query.get("n"), default=CATALOG_DEFAULT_PAGE)
    assert n is not None
    last = request.query.get("last", "")
    readable = await _reader(request.config_dict[PERMISSIONS], user, cluster.name)
    # The registry's own order (path components compared in turn), in which its `last` works.
    names = _private_names(request, f"{cluster.name}/{last}", page_size=n + 1)
    async with contextlib.aclosing(names):
        page, more = await catalog_page(names, f"{cluster.name}/", readable, n)
    response = web.json_response({"repositories": page})
    response.headers[errors.API_VERSION_HEADER] = errors.API_VERSION
    if more:
        _link_next(response, request, cluster, "/v2/_catalog", n, page[-1])
    return response


async def catalog_page(
    names: AsyncIterator[str], prefix: str, readable: Callable[[str], bool], n: int | None
) -> tuple[list[str], bool]:
    """The first `n` (all when None) public names of `prefix`'s repositories that are
    `readable`, and whether another follows; reads `names` no further than that. A cluster's
    repositories come one after another in the registry's order: the first name of another
    ends them."""
    page: list[str] = []
    async for name in names:
        if not name.startswith(prefix):
            break
        public = name.removeprefix(prefix)
        if readable(public):
            if len(page) == n:
                return page, True
            page.append(public)
    return page, False


def _page(names: list[str], n: int | None, last: str) -> list[str]:
    """The sorted `names` after `last`, at most `n` of them (all when n is None)."""
    after = [name for name in names if name > last]
    return after if n is None else after[:n]


def _link_next(
    response: web.Response,
    request: web.Request,
    cluster: ClusterSettings,
    path: str,
    n: int,
    last: str,
) -> None:
    url = _public_origin(request, cluster).with_path(path).with_query(n=n, last=last)
    response.headers["Link"] = f'<{url}>; rel="next"'


def _page_size(text: str | None, default: int | None) -> int | None:
    if text is None or text == "":
        return default
    if not text.isdigit() or not 0 < int(text) <= CATALOG_MAX_PAGE:
        raise errors.RegistryError(
            400, "PAGINATION_NUMBER_INVALID", f"n must be between 1 and {CATALOG_MAX_PAGE}"
        )
    return int(text)


async def readable_repositories(
    request: web.Request, cluster: ClusterSettings, user: str
) -> list[str]:
    """The cluster's repositories `user` may read, sorted (the web console's images page);
    raises `RegistryError` 503 while the registry is unavailable."""
    readable = await _reader(request.config_dict[PERMISSIONS], user, cluster.name)
    names = _private_names(request, f"{cluster.name}/", page_size=_UPSTREAM_CATALOG_PAGE)
    async with contextlib.aclosing(names):
        page, _ = await catalog_page(names, f"{cluster.name}/", readable, None)
    return sorted(page)


async def _private_names(
    request: web.Request, last: str, page_size: int
) -> AsyncGenerator[str, None]:
    """The private registry's repositories after `last` in its order, a page at a time (close
    it: it holds the registry in use)."""
    session = request.config_dict[UPSTREAM]
    registry = request.config_dict[PRIVATE_REGISTRY]
    try:
        async with registry.use() as base:
            n = min(page_size, _UPSTREAM_CATALOG_PAGE)
            url: URL | None = (base / "v2" / "_catalog").with_query(n=n, last=last)
            while url is not None:
                async with session.get(url) as upstream:
                    upstream.raise_for_status()
                    page = (await upstream.json()).get("repositories") or []
                    link = _LINK.search(upstream.headers.get("Link", ""))
                for name in page:
                    yield name
                url = base.join(URL(link["url"])) if link and page else None
    except RegistryUnavailableError as e:
        raise errors.unavailable(str(e), e.retry_after_s) from None
    except aiohttp.ClientError as e:
        raise errors.unavailable(f"the image registry failed: {e}", 5) from None


async def _reader(permissions: PermissionService, user: str, cluster: str) -> Callable[[str], bool]:
    """Whether `user` may read a repository of `cluster` (by its public name)."""
    grant_set = await permissions.grant_set(user, {"image"})
    return lambda name: grant_set.allows(parse_uri(image_uri(cluster, name)), Action.READ)
