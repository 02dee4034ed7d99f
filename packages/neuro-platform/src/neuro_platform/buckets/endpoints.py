"""Where `import/external` may connect (docs/protocol.md §8.4): a guard against SSRF.

The import checks the user's credentials by listing the bucket at the endpoint the user
names, from the server. Without a guard that is a way to make the server talk to what only
it can reach: its own loopback services (the embedded SeaweedFS, the database), the LAN, a
cloud metadata service at 169.254.169.254. So an endpoint must be http(s) and its host must
resolve to global addresses only, unless the operator lists the host, address or network in
`[buckets] import_allowed_hosts`.

The name is resolved once, here, and the connection made with a resolver that answers with
those very addresses and nothing else (`PinnedResolver`): a DNS answer that changes between
the check and the connection (rebinding) is never used, and neither is any other host (a
redirect).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ForbiddenEndpointError(ValueError):
    """An endpoint the server will not connect to: 400 with the reason."""


@dataclass(frozen=True)
class ResolvedEndpoint:
    host: str
    port: int
    addresses: tuple[IpAddress, ...]


class EndpointPolicy:
    """`allowed`: `[buckets] import_allowed_hosts` (names, addresses and networks)."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self._names: set[str] = set()
        self._networks: list[IpNetwork] = []
        for entry in allowed:
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._names.add(entry.lower().rstrip("."))

    async def resolve(self, url: URL) -> ResolvedEndpoint:
        if url.scheme not in ("http", "https") or not url.host:
            raise ForbiddenEndpointError(f"endpoint_url must be an http(s) URL, got {str(url)!r}")
        host = url.host.lower().rstrip(".")
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as e:
            raise ForbiddenEndpointError(f"Cannot resolve {host!r}: {e}") from None
        addresses = tuple(dict.fromkeys(_address(str(info[4][0])) for info in found))
        if not addresses:
            raise ForbiddenEndpointError(f"Cannot resolve {host!r}")
        if host not in self._names:
            for address in addresses:
                if not _is_public(address) and not any(address in n for n in self._networks):
                    raise ForbiddenEndpointError(
                        f"endpoint_url {host!r} is at {address}, a loopback, private, "
                        "link-local or otherwise non-public address: the server connects "
                        "there only if the operator lists it in [buckets] import_allowed_hosts"
                    )
        return ResolvedEndpoint(host, port, addresses)


def _address(text: str) -> IpAddress:
    address = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 scope id is no part of it
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address


def _is_public(address: IpAddress) -> bool:
    # `is_global` is false for loopback, private, link-local, unspecified, shared (CGNAT),
    # documentation and reserved ranges; multicast is no place for S3 either.
    return address.is_global and not address.is_multicast


class PinnedResolver(AbstractResolver):
    """Answers for the checked host with the checked addresses; refuses any other name."""

    def __init__(self, endpoint: ResolvedEndpoint) -> None:
        self._endpoint = endpoint

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host.lower().rstrip(".") != self._endpoint.host:
            raise OSError(f"{host!r} is not the checked endpoint {self._endpoint.host!r}")
        results: list[ResolveResult] = []
        for address in self._endpoint.addresses:
            v6 = isinstance(address, ipaddress.IPv6Address)
            results.append(
                {
                    "hostname": host,
                    "host": str(address),
                    "port": port,
                    "family": socket.AF_INET6 if v6 else socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        return results

    async def close(self) -> None:
        pass


def connector_args(endpoint: ResolvedEndpoint) -> dict[str, Any]:
    """aiobotocore's `AioConfig(connector_args=...)` that connects to `endpoint` only."""
    return {"resolver": PinnedResolver(endpoint), "use_dns_cache": False}
