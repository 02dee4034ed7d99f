"""Storage tests run against one real server per module; each test works in a folder of its
own. Transfers use small chunks so that multi-chunk paths run without writing gigabytes."""

import hashlib
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from yarl import URL

import neuro_sdk
from neuro_platform.testing.server import PlatformServer, running_platform
from neuro_sdk._transfer import Transfers, TransferSettings

SMALL_CHUNKS = TransferSettings(
    first_chunk_size=64 * 1024, write_chunk_size=96 * 1024, block_size=16 * 1024
)


@pytest.fixture(scope="module")
def storage_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    with running_platform(
        tmp_path_factory.mktemp("server"), users={"alice": "alice-password"}
    ) as server:
        yield server


@contextmanager
def server_behind(listener: socket.socket, directory: Path) -> Iterator[PlatformServer]:
    """Our server, telling clients to reach it at the listener's address: a proxy's, which
    the test puts in front of it."""
    public_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    directory.mkdir()
    with running_platform(
        directory, config={"server": {"public_url": public_url}}, users={"alice": "alice-password"}
    ) as server:
        yield server


@asynccontextmanager
async def client_via_proxy(
    server: PlatformServer, config_dir: Path
) -> AsyncIterator[neuro_sdk.Client]:
    """Alice's client of a server from `server_behind`, whose proxy must be serving."""
    await neuro_sdk.login_with_token(
        server.issue_token("alice"), url=server.api_url, path=config_dir
    )
    async with neuro_sdk.get(path=config_dir) as client:
        assert client.config.storage_url.port != server.base_url.port, "goes via the proxy"
        yield client


def bound_listener() -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    return listener


def use_small_chunks(client: neuro_sdk.Client) -> None:
    storage = client.storage
    storage._transfers = Transfers(storage._remote, SMALL_CHUNKS)


@pytest.fixture
async def client(storage_server: PlatformServer, tmp_path: Path) -> AsyncIterator[neuro_sdk.Client]:
    config_dir = tmp_path / "neuro-config"
    token = storage_server.issue_token("alice")
    await neuro_sdk.login_with_token(token, url=storage_server.api_url, path=config_dir)
    async with neuro_sdk.get(path=config_dir) as client:
        use_small_chunks(client)
        yield client


@pytest.fixture
def remote_dir(request: pytest.FixtureRequest) -> URL:
    """A folder in alice's home that no other test of the module uses."""
    return URL(f"storage:tests/{request.node.name}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_digest(root: Path) -> dict[str, str]:
    result = {}
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in dirnames:
            result[str((base / name).relative_to(root))] = "dir"
        for name in filenames:
            result[str((base / name).relative_to(root))] = _sha256(base / name)
    return result


TreeDigest = Callable[[Path], dict[str, str]]


@pytest.fixture
def tree_digest() -> TreeDigest:
    """Relative path -> sha256 for files, "dir" for directories."""
    return _tree_digest


@pytest.fixture
def make_tree() -> Callable[[Path, dict[str, bytes | None]], Path]:
    """Creates files (bytes) and empty directories (None) under a root."""

    def make(root: Path, entries: dict[str, bytes | None]) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        for relative, content in entries.items():
            path = root / relative
            if content is None:
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        return root

    return make
