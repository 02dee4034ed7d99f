"""`[buckets] enabled = false`: the calls that need the object store answer 422
`{"code": "disabled"}` (docs/protocol.md §8.4), not 400 nor 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.buckets import api_session
from neuro_platform.testing.fixtures import USERS
from neuro_platform.testing.server import running_platform


@pytest.fixture
def disabled_server(tmp_path: Path) -> Iterator[PlatformServer]:
    config = {"buckets": {"enabled": False}}
    with running_platform(tmp_path, config=config, users=USERS) as server:
        yield server


async def test_disabled_buckets_answer_422_disabled(disabled_server: PlatformServer) -> None:
    url = disabled_server.api_url / "buckets"
    imported = {
        "provider": "aws",
        "provider_bucket_name": "elsewhere",
        "credentials": {
            "endpoint_url": "https://s3.example.com",
            "access_key_id": "k",
            "secret_access_key": "s",
        },
    }
    async with api_session(disabled_server, "alice") as alice:
        for path, body in (
            ("buckets", {"name": "some-bucket"}),
            ("buckets/import/external", imported),
        ):
            async with alice.post(url / path, json=body) as response:
                assert response.status == 422, await response.text()
                answer = await response.json()
                assert answer["code"] == "disabled"
                assert "disabled" in answer["description"]
        async with alice.get(url / "buckets") as response:  # nothing to list, no failure
            assert (response.status, await response.json()) == (200, [])
