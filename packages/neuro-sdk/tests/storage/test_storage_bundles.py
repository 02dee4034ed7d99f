"""Small files travel in bundles (CREATETAR/OPENTAR) with our server, and one request each
with a server that refuses the extension, as the original platform would.

An HTTP proxy in front of the real server counts the storage operations and, when told
to, answers the bundle operations with the 400 an older server gives an unknown operation
(a fault injector: every other request reaches the real server)."""

import socket
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

import neuro_sdk
from neuro_platform.testing.server import PlatformServer
from neuro_sdk._bundles import split
from neuro_sdk._transfer import Transfers, TransferSettings

from .conftest import TreeDigest, bound_listener, client_via_proxy, server_behind

BUNDLE_OPERATIONS = {"CREATETAR", "OPENTAR"}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class CountingProxy:
    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.target = URL("http://127.0.0.1")
        self.operations: Counter[str] = Counter()
        self.refuse_bundles = False

    async def handle(self, request: web.Request) -> web.StreamResponse:
        operation = request.query.get("op", "").upper()
        self.operations[operation] += 1
        if self.refuse_bundles and operation in BUNDLE_OPERATIONS:
            return web.json_response(
                {"error": f"Operation {operation} is not supported"}, status=400
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with (
            aiohttp.ClientSession(auto_decompress=False) as session,
            session.request(
                request.method,
                self.target.with_path(request.path).with_query(request.query),
                headers=headers,
                data=await request.read(),
                allow_redirects=False,
            ) as upstream,
        ):
            body = await upstream.read()
            kept = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(status=upstream.status, headers=kept, body=body)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.SockSite(runner, self.listener)
        await site.start()
        try:
            yield
        finally:
            await runner.cleanup()


@pytest.fixture
def proxied_server(tmp_path: Path) -> Iterator[tuple[PlatformServer, CountingProxy]]:
    proxy = CountingProxy(bound_listener())
    with server_behind(proxy.listener, tmp_path / "server") as server:
        proxy.target = server.base_url
        yield server, proxy


@pytest.fixture
async def proxied_client(
    proxied_server: tuple[PlatformServer, CountingProxy], tmp_path: Path
) -> AsyncIterator[tuple[neuro_sdk.Client, CountingProxy]]:
    server, proxy = proxied_server
    async with proxy.serving(), client_via_proxy(server, tmp_path / "proxied-config") as client:
        fresh_transfers(client)
        yield client, proxy


def fresh_transfers(client: neuro_sdk.Client) -> None:
    """Transfers that know nothing yet of what the server supports."""
    settings = TransferSettings(bundle_files=100)
    client.storage._transfers = Transfers(client.storage._remote, settings)


def _small_tree(root: Path) -> Path:
    """250 small files in one folder, 3 in a subfolder, and one file too big to bundle."""
    for index in range(250):
        (root / "many").mkdir(parents=True, exist_ok=True)
        (root / "many" / f"file{index}.txt").write_bytes(f"content {index}\n".encode() * index)
    (root / "many" / "sub").mkdir()
    for name in ("a", "b", "пустой"):
        (root / "many" / "sub" / name).write_bytes(name.encode() * 3 if name != "пустой" else b"")
    (root / "many" / "big.bin").write_bytes(b"x" * (200 * 1024))
    return root / "many"


async def test_small_files_travel_in_bundles(
    proxied_client: tuple[neuro_sdk.Client, CountingProxy],
    tmp_path: Path,
    tree_digest: TreeDigest,
) -> None:
    client, proxy = proxied_client
    source = _small_tree(tmp_path / "source")
    completed: list[str] = []

    class Completions(neuro_sdk.AbstractRecursiveFileProgress):
        def start(self, data: neuro_sdk.StorageProgressStart) -> None:
            pass

        def step(self, data: neuro_sdk.StorageProgressStep) -> None:
            pass

        def complete(self, data: neuro_sdk.StorageProgressComplete) -> None:
            completed.append(data.src.name)

        def enter(self, data: neuro_sdk.StorageProgressEnterDir) -> None:
            pass

        def leave(self, data: neuro_sdk.StorageProgressLeaveDir) -> None:
            pass

        def fail(self, data: neuro_sdk.StorageProgressFail) -> None:
            raise AssertionError(data)

    await client.storage.upload_dir(
        URL(source.as_uri()), URL("storage:bundled"), progress=Completions()
    )
    uploads = dict(proxy.operations)
    proxy.operations.clear()
    target = tmp_path / "target"
    await client.storage.download_dir(URL("storage:bundled"), URL(target.as_uri()))

    assert tree_digest(target) == tree_digest(source)
    assert sorted(completed) == sorted(p.name for p in source.rglob("*") if p.is_file())
    # 250 + 3 small files: 3 + 1 bundles each way; only the big file goes on its own.
    assert uploads["CREATETAR"] == 4
    assert uploads["CREATE"] == 1
    assert proxy.operations["OPENTAR"] == 4
    assert proxy.operations["OPEN"] == 1


async def test_a_server_without_bundles_gets_one_request_per_file(
    proxied_client: tuple[neuro_sdk.Client, CountingProxy],
    tmp_path: Path,
    tree_digest: TreeDigest,
) -> None:
    client, proxy = proxied_client
    proxy.refuse_bundles = True
    source = _small_tree(tmp_path / "source")

    await client.storage.upload_dir(URL(source.as_uri()), URL("storage:plain"))
    target = tmp_path / "target"
    fresh_transfers(client)  # the download learns on its own that bundles are refused
    await client.storage.download_dir(URL("storage:plain"), URL(target.as_uri()))

    assert tree_digest(target) == tree_digest(source)
    # The first refusal turns bundling off: only bundles already on their way (4 at most,
    # one per 100 files of a folder) reach the server; every file then travels on its own.
    assert 1 <= proxy.operations["CREATETAR"] <= 4
    assert 1 <= proxy.operations["OPENTAR"] <= 4
    assert proxy.operations["CREATE"] == 254
    assert proxy.operations["OPEN"] == 254


def test_bundles_stay_within_their_file_and_byte_limits() -> None:
    limits = TransferSettings(bundle_files=3, bundle_bytes=100)
    sizes = [10, 10, 10, 10, 60, 50, 200, 1]

    bundles = list(split(sizes, lambda size: size, limits))

    assert bundles == [[10, 10, 10], [10, 60], [50], [200], [1]]
    assert [size for bundle in bundles for size in bundle] == sizes
