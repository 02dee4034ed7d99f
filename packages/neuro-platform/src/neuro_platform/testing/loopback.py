"""HTTP clients that reach `*.localhost` job hosts, as browsers do.

Browsers resolve `localhost` and every name below it to loopback (RFC 6761 6.3); glibc does
not unless a resolver module says so, so a test's aiohttp client needs this resolver to open a
job's `http_url` (`<job>.jobs.localhost:<port>`) the way a user's browser would.
"""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult


class LocalhostResolver(AbstractResolver):
    def __init__(self) -> None:
        self._default = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.lower().rstrip(".")
        if name != "localhost" and not name.endswith(".localhost"):
            return await self._default.resolve(host, port, family)
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        await self._default.close()


def loopback_session(**kwargs: Any) -> aiohttp.ClientSession:
    """An `aiohttp.ClientSession` (same arguments) whose `*.localhost` names reach loopback."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(resolver=LocalhostResolver()), **kwargs
    )
