"""`import/external` does not connect wherever the user says (SSRF, docs/security.md
"Buckets"): endpoints on loopback, private, link-local or unspecified addresses, or not
http(s), are a clear 400 and no connection, unless `[buckets] import_allowed_hosts` lists
them (the import test in test_buckets_api.py allows the embedded store on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import pytest
from yarl import URL

from neuro_platform.buckets.endpoints import (
    EndpointPolicy,
    ForbiddenEndpointError,
    PinnedResolver,
)
from neuro_platform.testing import PlatformServer
from neuro_platform.testing.buckets import api_session


def _body(endpoint: str) -> dict[str, Any]:
    return {
        "name": "imported",
        "provider": "minio",
        "provider_bucket_name": "anything",
        "credentials": {
            "endpoint_url": endpoint,
            "access_key_id": "key",
            "secret_access_key": "secret",
        },
    }


async def test_imports_from_internal_addresses_are_refused_without_connecting(
    platform_server: PlatformServer,
) -> None:
    connections: list[object] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer.get_extra_info("peername"))
        writer.close()

    listener = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    hostile = [
        f"http://127.0.0.1:{port}",  # a service listening on the server's loopback
        f"http://localhost:{port}",  # a name for it
        f"http://[::ffff:127.0.0.1]:{port}",  # the same, IPv4-mapped
        f"http://127.1:{port}",  # and in short form
        "http://[::1]:9000",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://10.1.2.3:9000",
        "http://192.168.0.1:9000",
        "http://0.0.0.0:9000",
    ]
    url = platform_server.api_url / "buckets/buckets/import/external"
    async with listener, api_session(platform_server, "alice") as alice:
        for endpoint in hostile:
            async with alice.post(url, json=_body(endpoint)) as response:
                assert response.status == 400, (endpoint, await response.text())
                assert "import_allowed_hosts" in (await response.json())["error"], endpoint
        for endpoint in ("ftp://example.com/", "file:///etc/passwd", "gopher://127.0.0.1:70"):
            async with alice.post(url, json=_body(endpoint)) as response:
                assert response.status == 400, (endpoint, await response.text())
                assert "http(s)" in (await response.json())["error"]
    assert connections == []


async def test_the_operator_allows_hosts_by_name_address_or_network() -> None:
    by_address = EndpointPolicy(["127.0.0.1/32"])
    resolved = await by_address.resolve(URL("http://127.0.0.1:9000"))
    assert resolved.addresses == (ipaddress.ip_address("127.0.0.1"),)
    with pytest.raises(ForbiddenEndpointError):
        await by_address.resolve(URL("http://127.0.0.2:9000"))
    by_network = EndpointPolicy(["10.0.0.0/8"])
    assert (await by_network.resolve(URL("https://10.9.8.7"))).port == 443
    with pytest.raises(ForbiddenEndpointError):
        await by_network.resolve(URL("http://11.0.0.1.nip.invalid"))  # does not resolve
    by_name = EndpointPolicy(["localhost"])
    assert (await by_name.resolve(URL("http://LOCALHOST.:9000"))).host == "localhost"
    with pytest.raises(ForbiddenEndpointError):
        await EndpointPolicy(()).resolve(URL("http://localhost:9000"))


async def test_the_connection_uses_the_checked_addresses_only() -> None:
    """DNS rebinding: what the check resolved is what the connection gets; any other name
    (a redirect elsewhere) does not resolve at all."""
    endpoint = await EndpointPolicy(["localhost"]).resolve(URL("http://localhost:9000"))
    resolver = PinnedResolver(endpoint)
    answers = await resolver.resolve("localhost", 9000, socket.AF_UNSPEC)
    assert {a["host"] for a in answers} == {str(a) for a in endpoint.addresses}
    with pytest.raises(OSError, match="not the checked endpoint"):
        await resolver.resolve("metadata.google.internal", 80)
