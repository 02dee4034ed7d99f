"""The error middleware: JSON bodies, the statuses of docs/protocol.md §9, never a 500 for bad
input."""

from __future__ import annotations

import errno

import aiohttp

from neuro_platform.api.errors import BadGatewayError, status_and_body
from neuro_platform.disks.errors import DiskNameTakenError, DiskOverLimitError
from neuro_platform.orchestrator import ContainerNotRunningError
from neuro_platform.permissions import Permission, PermissionDeniedError, RoleExistsError
from neuro_platform.secrets.service import SecretNotFoundError
from neuro_platform.storage.errors import DestinationError, StorageError
from neuro_platform.testing import PlatformServer


async def test_unknown_route_is_json_404_with_service_version(
    platform_server: PlatformServer,
) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(platform_server.api_url / "no-such-thing") as response,
    ):
        assert response.status == 404
        assert response.content_type == "application/json"
        assert await response.json() == {"error": "Not Found"}
        assert response.headers["X-Service-Version"].startswith("neuro-platform/")


async def test_wrong_method_is_json_405(platform_server: PlatformServer) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.delete(platform_server.api_url / "config") as response,
    ):
        assert response.status == 405
        assert "error" in await response.json()
        assert "GET" in response.headers["Allow"]


async def test_bad_json_is_400(platform_server: PlatformServer) -> None:
    headers = {
        "Authorization": f"Bearer {platform_server.issue_token('alice')}",
        "Content-Type": "application/json",
    }
    url = platform_server.api_url / "users" / "alice" / "permissions" / "check"
    async with aiohttp.ClientSession() as client:
        async with client.post(url, data=b"{not json", headers=headers) as response:
            assert response.status == 400
            assert "error" in await response.json()
        async with client.post(url, json={"uri": "x"}, headers=headers) as response:
            assert response.status == 400
            assert "array" in (await response.json())["error"]


async def test_missing_token_on_protected_endpoint_is_401(platform_server: PlatformServer) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(platform_server.api_url / "users" / "alice") as response,
    ):
        assert response.status == 401
        assert await response.json() == {"error": "no bearer token given"}


# The mapping itself (`api/errors.py`), one domain exception at a time: the statuses and
# bodies the handlers used to pick one by one, which clients depend on byte for byte.


def test_domain_errors_map_to_their_status_and_body() -> None:
    assert status_and_body(SecretNotFoundError("Secret 'k' not found")) == (
        404,
        {"error": "Secret 'k' not found"},
    )
    assert status_and_body(RoleExistsError("role 'r' exists already")) == (
        409,
        {"error": "role 'r' exists already"},
    )
    # The disk and service-account services' own shape (docs/protocol.md §9).
    assert status_and_body(DiskNameTakenError("taken")) == (
        409,
        {"code": "unique_violation", "description": "taken"},
    )
    assert status_and_body(DiskOverLimitError("too big")) == (
        403,
        {"code": "over_limit", "description": "too big"},
    )
    assert status_and_body(ContainerNotRunningError("Job j is not running"))[0] == 404
    assert status_and_body(BadGatewayError("Job j is not running"))[0] == 502


def test_permission_errors_name_what_is_missing() -> None:
    read = Permission.of("job://c/alice/j", "read")
    missing = [{"uri": "job://c/alice/j", "action": "read"}]
    assert status_and_body(PermissionDeniedError([read])) == (403, {"missing": missing})
    assert status_and_body(PermissionDeniedError([read], "No access")) == (
        403,
        {"error": "No access", "missing": missing},
    )


def test_storage_errors_keep_their_errno() -> None:
    absent = StorageError(errno.ENOENT, "No such file or directory", "/alice/x")
    assert status_and_body(absent) == (
        404,
        {"error": "No such file or directory: '/alice/x'", "errno": "ENOENT"},
    )
    # A missing parent of a RENAME destination is a bad argument, not a missing resource.
    destination = DestinationError(errno.ENOENT, "No such file or directory", "/alice/y/z")
    assert status_and_body(destination)[0] == 400


def test_a_stray_lookup_error_is_a_server_error_not_a_404() -> None:
    # Only domain errors say "not found": a KeyError from a bug must not pass for one.
    assert status_and_body(KeyError("x")) == (500, {"error": "Unexpected exception"})
    assert status_and_body(RuntimeError("boom")) == (500, {"error": "Unexpected exception"})
    assert status_and_body(ValueError("bad")) == (400, {"error": "bad"})
