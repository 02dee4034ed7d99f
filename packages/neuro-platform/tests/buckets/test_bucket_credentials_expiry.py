"""Temporary credentials stop at their `expiration` (docs/protocol.md §8.4): the sweep sleeps
until the first expiry instead of polling every `min(30 s, ttl / 4)`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.buckets import api_session, s3_client
from neuro_platform.testing.fixtures import USERS
from neuro_platform.testing.server import running_platform

# Its buckets and credentials are on the server's embedded SeaweedFS.
pytestmark = pytest.mark.seaweedfs

TTL_S = 20  # the old sweep's period was 5 s of that
# What the server may take past the expiry: one IAM DeleteUser on a busy machine (CI runs
# the suite beside other work). The old 5 s sweep misses this margin more often than not.
MARGIN_S = 3.0


@pytest.fixture
def short_ttl_server(tmp_path: Path) -> Iterator[PlatformServer]:
    config = {"buckets": {"s3_host": "127.0.0.1", "tmp_credentials_ttl_s": TTL_S}}
    with running_platform(tmp_path, users=USERS, config=config) as server:
        yield server


async def test_tmp_credentials_stop_at_their_expiration(
    short_ttl_server: PlatformServer,
) -> None:
    server = short_ttl_server
    async with api_session(server, "alice") as alice:
        async with alice.post(server.api_url / "buckets/buckets", json={}) as response:
            assert response.status == 201, await response.text()
            bucket_id = (await response.json())["id"]
        url = server.api_url / "buckets/buckets" / bucket_id / "make_tmp_credentials"
        async with alice.post(url) as response:
            assert response.status == 200, await response.text()
            credentials = (await response.json())["credentials"]
    s3 = s3_client(credentials)
    bucket = credentials["bucket_name"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    expiration = datetime.fromisoformat(credentials["expiration"])
    await asyncio.sleep((expiration - datetime.now(UTC)).total_seconds() + MARGIN_S)
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=bucket, Key="k")
    assert refused.value.response["Error"]["Code"] in ("InvalidAccessKeyId", "AccessDenied")
