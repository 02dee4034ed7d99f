"""Storage test helpers: authenticated HTTP clients of a real server, and raw requests."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import yarl

from neuro_platform.db.engine import create_engine, create_session_factory
from neuro_platform.permissions import Permission, PermissionRepository, PermissionService
from neuro_platform.testing import PlatformServer


@dataclass
class StorageUser:
    """One user's view of the storage API, speaking the wire protocol as the SDK does."""

    name: str
    token: str
    storage_url: yarl.URL
    session: aiohttp.ClientSession

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def url(self, path: str, **query: str) -> yarl.URL:
        return (self.storage_url / path.lstrip("/")).with_query(query)

    async def request(
        self, method: str, path: str, op: str, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> aiohttp.ClientResponse:
        query = {"op": op, **kw.pop("query", {})}
        response = await self.session.request(
            method, self.url(path, **query), headers={**self.auth, **(headers or {})}, **kw
        )
        await response.read()
        return response

    async def put(self, path: str, data: bytes) -> aiohttp.ClientResponse:
        # A file object streams; aiohttp warns about large raw bytes bodies.
        return await self.request("PUT", path, "CREATE", data=io.BytesIO(data))

    async def read(self, path: str, headers: dict[str, str] | None = None) -> bytes:
        response = await self.request("GET", path, "OPEN", headers=headers)
        assert response.status in (200, 206), await response.text()
        return await response.read()

    async def stat(self, path: str) -> aiohttp.ClientResponse:
        return await self.request("GET", path, "GETFILESTATUS")

    async def names(self, path: str) -> list[str]:
        response = await self.request("GET", path, "LISTSTATUS")
        assert response.status == 200, await response.text()
        return sorted(s["path"] for s in (await response.json())["FileStatuses"]["FileStatus"])


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def alice(platform_server: PlatformServer, session: aiohttp.ClientSession) -> StorageUser:
    return StorageUser(
        "alice", platform_server.issue_token("alice"), platform_server.api_url / "storage", session
    )


@pytest.fixture
def bob(platform_server: PlatformServer, session: aiohttp.ClientSession) -> StorageUser:
    return StorageUser(
        "bob", platform_server.issue_token("bob"), platform_server.api_url / "storage", session
    )


async def grant(server: PlatformServer, user: str, uri: str, action: str) -> None:
    """Shares a resource by writing the grant into the server's own database."""
    engine = create_engine(f"sqlite+aiosqlite:///{server.data_dir / 'platform.db'}")
    try:
        service = PermissionService(
            PermissionRepository(create_session_factory(engine)), clusters=["default"], orgs=[]
        )
        await service.grant(user, Permission.of(uri, action))
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class RawResponse:
    status: int
    head: str
    body: bytes


async def raw_request(
    server: PlatformServer, method: str, target: str, token: str, body: bytes = b""
) -> RawResponse:
    """Sends the request line exactly as given: no client-side normalisation or quoting."""
    assert server.base_url.host is not None
    assert server.base_url.port is not None
    reader, writer = await asyncio.open_connection(server.base_url.host, server.base_url.port)
    try:
        writer.write(
            (
                f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            + body
        )
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return RawResponse(status, head.decode("latin-1"), payload)
