"""Buckets on a server whose object store cannot run (its `weed` binary is not installed):
every bucket call answers 503 with a reason and `Retry-After`, never 500, and nothing of the
request is kept. Needs no SeaweedFS, which is the point."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.buckets import api_session
from neuro_platform.testing.server import running_platform


@pytest.fixture(scope="module")
def storeless_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    directory = Path(tmp_path_factory.mktemp("storeless"))
    config = {"buckets": {"binary": "weed-that-is-not-installed"}}
    with running_platform(directory, users={"alice": "alice-password"}, config=config) as server:
        yield server


async def test_a_bucket_call_without_a_store_answers_503_with_why(
    storeless_server: PlatformServer,
) -> None:
    buckets = storeless_server.api_url / "buckets" / "buckets"
    async with api_session(storeless_server, "alice") as alice:
        async with alice.post(buckets, json={"name": "data"}) as response:
            assert response.status == 503
            assert response.headers["Retry-After"] == "1"
            assert "weed-that-is-not-installed" in (await response.json())["error"]
        async with alice.get(buckets) as response:  # the refused bucket was not kept
            assert response.status == 200
            assert (await response.json()) == []
