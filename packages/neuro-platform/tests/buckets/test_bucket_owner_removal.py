"""Removing a user (`neuro-platform admin user remove`) ends their bucket credentials in the
store at once and keeps their buckets' data for the operator, out of every account's reach,
so a new account of the same name starts without them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.buckets import api_session, s3_client


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
    s3 = s3_client(creds)
    s3.put_object(Bucket=creds["bucket_name"], Key="data", Body=b"alice's")

    platform_server.admin("user", "remove", "alice")

    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=creds["bucket_name"], Key="data")
    assert info.value.response["Error"]["Code"] == "InvalidAccessKeyId"
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
