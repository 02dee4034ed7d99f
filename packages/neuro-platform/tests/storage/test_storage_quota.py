"""The per-user storage quota (`[storage] max_bytes_per_user`) on a real server: a write over
it answers 400 with errno EDQUOT and leaves nothing behind."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from neuro_platform.settings import SettingsError, load_settings
from neuro_platform.storage.paths import PARTIAL_UPLOAD_PREFIX
from neuro_platform.testing import PlatformServer, running_platform
from neuro_platform.testing.fixtures import USERS

from .conftest import StorageUser, grant

KIB = 1024
QUOTA = 2048 * KIB  # a streamed CREATE (bigger than 1 MiB) fits once, not twice


@pytest.fixture
def quota_server(tmp_path: Path) -> Iterator[PlatformServer]:
    config = {"storage": {"max_bytes_per_user": QUOTA}}
    with running_platform(tmp_path, config=config, users=USERS) as server:
        yield server


@pytest.fixture
def alice(quota_server: PlatformServer, session: aiohttp.ClientSession) -> StorageUser:
    token = quota_server.issue_token("alice")
    return StorageUser("alice", token, quota_server.api_url / "storage", session)


@pytest.fixture
def bob(quota_server: PlatformServer, session: aiohttp.ClientSession) -> StorageUser:
    token = quota_server.issue_token("bob")
    return StorageUser("bob", token, quota_server.api_url / "storage", session)


def _leftovers(server: PlatformServer, home: str) -> list[str]:
    folder = server.data_dir / "storage" / "default" / home
    return sorted(n for n in os.listdir(folder) if n.startswith(PARTIAL_UPLOAD_PREFIX))


async def _assert_over_quota(response: aiohttp.ClientResponse) -> None:
    assert response.status == 400, await response.text()
    body = await response.json()
    assert body["errno"] == "EDQUOT"
    assert "quota" in body["error"]  # the clients raise OSError(EDQUOT) with this message


async def _chunks(data: bytes, size: int = 256 * KIB) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_create_over_the_quota_is_refused_and_leaves_nothing(
    quota_server: PlatformServer, alice: StorageUser
) -> None:
    assert (await alice.put("alice/a.bin", os.urandom(1200 * KIB))).status == 201
    # Content-Length known: refused before anything is written.
    await _assert_over_quota(await alice.put("alice/b.bin", os.urandom(900 * KIB)))
    # Streamed (chunked, so the size is learned as it arrives): refused midway.
    response = await alice.request(
        "PUT", "alice/c.bin", "CREATE", data=_chunks(os.urandom(1500 * KIB))
    )
    await _assert_over_quota(response)
    assert (await alice.stat("alice/b.bin")).status == 404
    assert (await alice.stat("alice/c.bin")).status == 404
    assert _leftovers(quota_server, "alice") == []
    # Replacing a file counts only what it grows by.
    assert (await alice.put("alice/a.bin", os.urandom(1300 * KIB))).status == 201


async def test_write_past_the_quota_is_refused_and_the_file_is_unchanged(
    alice: StorageUser,
) -> None:
    data = os.urandom(1000 * KIB)
    assert (await alice.put("alice/big.bin", data)).status == 201
    more = os.urandom(1100 * KIB)
    response = await alice.request(
        "PATCH",
        "alice/big.bin",
        "WRITE",
        data=io.BytesIO(more),
        headers={"Content-Range": f"bytes {len(data)}-{len(data) + len(more) - 1}/*"},
    )
    await _assert_over_quota(response)
    assert await alice.read("alice/big.bin") == data
    # Overwriting in place does not grow the file: allowed.
    response = await alice.request(
        "PATCH",
        "alice/big.bin",
        "WRITE",
        data=more[:KIB],
        headers={"Content-Range": f"bytes 0-{KIB - 1}/*"},
    )
    assert response.status == 200, await response.text()


async def test_removing_files_frees_the_quota(alice: StorageUser) -> None:
    assert (await alice.put("alice/a.bin", os.urandom(1500 * KIB))).status == 201
    await _assert_over_quota(await alice.put("alice/b.bin", os.urandom(1000 * KIB)))
    assert (await alice.request("DELETE", "alice/a.bin", "DELETE")).status == 204
    assert (await alice.put("alice/b.bin", os.urandom(1000 * KIB))).status == 201


async def test_writes_into_a_shared_folder_count_for_its_owner(
    quota_server: PlatformServer, alice: StorageUser, bob: StorageUser
) -> None:
    # Hostile: bob cannot fill alice's storage past her quota through her share, and what
    # he writes there is not taken from his own quota.
    await grant(quota_server, "bob", "storage://default/alice/shared", "write")
    assert (await bob.put("alice/shared/x.bin", os.urandom(1500 * KIB))).status == 201
    await _assert_over_quota(await bob.put("alice/shared/y.bin", os.urandom(1000 * KIB)))
    await _assert_over_quota(await alice.put("alice/z.bin", os.urandom(1000 * KIB)))
    assert (await bob.put("bob/own.bin", os.urandom(1500 * KIB))).status == 201


def test_the_quota_is_off_by_default_and_must_be_a_positive_integer(tmp_path: Path) -> None:
    assert (
        load_settings(None, env={"XDG_DATA_HOME": str(tmp_path)}).storage.max_bytes_per_user is None
    )
    config = tmp_path / "platform.toml"
    config.write_text("[storage]\nmax_bytes_per_user = 1048576\n")
    assert load_settings(config, env={}).storage.max_bytes_per_user == 1048576
    for bad in ("0", '"1 GiB"', "-5"):
        config.write_text(f"[storage]\nmax_bytes_per_user = {bad}\n")
        with pytest.raises(SettingsError, match="max_bytes_per_user"):
            load_settings(config, env={})
