"""Two `serve` processes on one PostgreSQL and one data dir (docs/scale-out.md): one runs
the embedded SeaweedFS, the other administers that same store through its S3 endpoint, so
a revoke answered by either ends the credentials before its answer."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from botocore.exceptions import ClientError

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.buckets import api_session, s3_client
from neuro_platform.testing.server import serving

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("NEURO_TEST_POSTGRES_URL"), reason="needs PostgreSQL"),
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


@contextlib.contextmanager
def _serving(tmp_path: Path, name: str, data_dir: Path, config: Path) -> Iterator[PlatformServer]:
    with serving(tmp_path, name, data_dir, config) as process:
        yield process.server


def _config(tmp_path: Path, database_url: str) -> Path:
    config_file = tmp_path / "platform.toml"
    config: dict[str, Any] = {
        "server": {"host": "127.0.0.1"},
        "database": {"url": database_url},
        "buckets": {"s3_host": "127.0.0.1"},
    }
    config_file.write_text(tomli_w.dumps(config))
    return config_file


@pytest.fixture
def pair(tmp_path: Path, database_url: str) -> Iterator[tuple[PlatformServer, PlatformServer]]:
    data_dir, config_file = tmp_path / "platform-data", _config(tmp_path, database_url)
    with (
        _serving(tmp_path, "a", data_dir, config_file) as a,
        _serving(tmp_path, "b", data_dir, config_file) as b,
    ):
        a.create_user("alice", "alice-password")
        a.create_user("bob", "bob-password")
        yield a, b


def _refused(action: Any) -> str:
    with pytest.raises(ClientError) as info:
        action()
    return str(info.value.response["Error"]["Code"])


async def test_a_revoke_on_the_other_process_ends_credentials_at_once(
    pair: tuple[PlatformServer, PlatformServer],
) -> None:
    a, b = pair
    async with (
        api_session(a, "alice") as alice_a,
        api_session(b, "alice") as alice_b,
        api_session(b, "bob") as bob_b,
    ):
        # Process a starts the store.
        async with alice_a.post(a.api_url / "buckets/buckets", json={"name": "two"}) as r:
            assert r.status == 201, await r.text()
        url = a.api_url / "buckets/buckets/two/make_tmp_credentials"
        async with alice_a.post(url) as r:
            mine = (await r.json())["credentials"]
        s3_client(mine).put_object(Bucket=mine["bucket_name"], Key="k", Body=b"alice's")
        uri = "blob://default/alice/two"
        share = [{"uri": uri, "action": "read"}]
        async with alice_a.post(a.api_url / "users/bob/permissions", json=share) as r:
            assert r.status == 201, await r.text()

        # Process b hands out credentials of the same store (no second store: it would not
        # even start on the shared data dir).
        url = b.api_url / "buckets/buckets/two/make_tmp_credentials"
        async with bob_b.post(url, params={"owner": "alice"}) as r:
            assert r.status == 200, await r.text()
            bobs = (await r.json())["credentials"]
        assert bobs["endpoint_url"] == mine["endpoint_url"]
        reader = s3_client(bobs)
        assert reader.get_object(Bucket=bobs["bucket_name"], Key="k")["Body"].read() == b"alice's"

        # The revoke is answered by process b; the store (run by a) refuses bob at once.
        async with alice_b.delete(b.api_url / "users/bob/permissions", params={"uri": uri}) as r:
            assert r.status == 204, await r.text()
        code = _refused(lambda: reader.get_object(Bucket=bobs["bucket_name"], Key="k"))
        assert code in ("InvalidAccessKeyId", "AccessDenied")
        # Alice's own credentials are untouched.
        got = s3_client(mine).get_object(Bucket=mine["bucket_name"], Key="k")["Body"].read()
        assert got == b"alice's"


async def test_the_other_process_takes_the_store_over_when_its_process_stops(
    tmp_path: Path, database_url: str
) -> None:
    data_dir, config_file = tmp_path / "platform-data", _config(tmp_path, database_url)
    endpoint_file = data_dir / "buckets" / "s3-endpoint"
    with contextlib.ExitStack() as b_stack:
        with _serving(tmp_path, "a", data_dir, config_file) as a:
            a.create_user("alice", "alice-password")
            b = b_stack.enter_context(_serving(tmp_path, "b", data_dir, config_file))
            async with api_session(a, "alice") as alice:
                async with alice.post(a.api_url / "buckets/buckets", json={"name": "kept"}) as r:
                    assert r.status == 201, await r.text()
                url = a.api_url / "buckets/buckets/kept/make_tmp_credentials"
                async with alice.post(url) as r:
                    before = (await r.json())["credentials"]
            s3_client(before).put_object(Bucket=before["bucket_name"], Key="k", Body=b"kept")
            assert endpoint_file.read_text() == before["endpoint_url"]
        # a stopped, and its store with it: nobody may be sent to that endpoint any more.
        assert not endpoint_file.exists()
        async with api_session(b, "alice") as alice:
            url = b.api_url / "buckets/buckets/kept/make_tmp_credentials"
            async with alice.post(url) as r:
                assert r.status == 200, await r.text()
                after = (await r.json())["credentials"]
        got = s3_client(after).get_object(Bucket=after["bucket_name"], Key="k")["Body"].read()
        assert got == b"kept"
        assert endpoint_file.read_text() == after["endpoint_url"]
