"""Removing a user (`neuro-platform admin user remove`) ends their bucket credentials in the
store at the server's next removal sweep (0.1 s; the command's notice wakes it) and keeps
their buckets' data for the operator, out of every account's reach, so a new account of the
same name starts without them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from botocore.exceptions import ClientError

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.buckets import api_session, s3_client

# Its buckets and credentials are on the server's embedded SeaweedFS.
pytestmark = pytest.mark.seaweedfs


async def test_a_removed_users_credentials_stop_and_a_new_namesake_gets_no_buckets(
    platform_server: PlatformServer,
) -> None:
    url = platform_server.api_url / "buckets"
    async with api_session(platform_server, "alice") as alice:
        async with alice.post(url / "buckets", json={"name": "kept"}) as response:
            bucket: dict[str, Any] = await response.json()
        body = {"bucket_ids": [bucket["id"]]}
        async with alice.post(url / "persistent_credentials", json=body) as response:
            creds = (await response.json())["credentials"][0]["credentials"]
        # Bob reads it through a share, with temporary credentials of his own.
        share = [{"uri": f"blob://default/alice/{bucket['name']}", "action": "read"}]
        async with alice.post(platform_server.api_url / "users/bob/permissions", json=share) as r:
            assert r.status == 201
    async with api_session(platform_server, "bob") as bob:
        tmp_url = url / "buckets" / bucket["id"] / "make_tmp_credentials"
        async with bob.post(tmp_url) as response:
            bobs = s3_client((await response.json())["credentials"])
    s3 = s3_client(creds)
    s3.put_object(Bucket=creds["bucket_name"], Key="data", Body=b"alice's")
    assert _refusal(bobs, creds["bucket_name"]) is None

    platform_server.admin("user", "remove", "alice")

    # The running server finishes the removal in its sweeper, woken by the command's notice:
    # wait for it (the test's timeout bounds the wait). Bob's credentials for the retired
    # bucket end in the same pass, after alice's own.
    while True:
        refusal = _refusal(bobs, creds["bucket_name"])
        if refusal is not None:
            break
        await asyncio.sleep(0.1)
    assert refusal == "InvalidAccessKeyId"
    assert _refusal(s3, creds["bucket_name"]) == "InvalidAccessKeyId"
    platform_server.create_user("alice", "new-alice-password")
    async with api_session(platform_server, "alice") as new_alice:
        async with new_alice.get(url / "buckets") as response:
            assert await response.json() == []
        async with new_alice.get(url / "buckets" / bucket["id"]) as response:
            assert response.status == 403
        async with new_alice.get(url / "buckets" / "kept") as response:
            assert response.status == 404
        async with new_alice.post(url / "buckets", json={"name": "kept"}) as response:
            assert response.status == 201


def _refusal(s3: Any, bucket: str) -> str | None:
    """The store's error code for a read of the blob, None while the read still works."""
    try:
        s3.get_object(Bucket=bucket, Key="data")
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return None
