"""Disks API (docs/protocol.md §8.2) on a real server: real ext4 images, a real size limit."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from neuro_platform.testing import PlatformServer, running_platform
from neuro_platform.testing.fixtures import USERS

MIB = 1024**2


@pytest.fixture
def disk_server(tmp_path: Path) -> Iterator[PlatformServer]:
    config = {"disks": {"max_total_bytes_per_user": 64 * MIB, "refresh_interval_s": 0.2}}
    with running_platform(tmp_path, config=config, users=USERS) as server:
        yield server


def _session(server: PlatformServer, user: str) -> aiohttp.ClientSession:
    token = server.issue_token(user)
    return aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})


async def _create(session: aiohttp.ClientSession, url: Any, **body: Any) -> dict[str, Any]:
    async with session.post(url, json={"life_span": None, "name": None, **body}) as response:
        assert response.status == 201, await response.text()
        disk: dict[str, Any] = await response.json()
        return disk


async def test_created_disk_is_ready_and_found_by_id_and_name(
    disk_server: PlatformServer,
) -> None:
    url = disk_server.api_url / "disk"
    async with _session(disk_server, "alice") as alice:
        disk = await _create(alice, url, storage=16 * MIB, name="data")
        assert disk["status"] == "Ready"
        assert disk["storage"] == 16 * MIB
        assert disk["owner"] == "alice"
        assert disk["id"].startswith("disk-")
        assert disk["last_usage"] is None
        for key in (disk["id"], "data"):
            async with alice.get(url / key) as response:
                assert (await response.json())["id"] == disk["id"]
        async with alice.get(url) as response:
            assert [d["name"] for d in await response.json()] == ["data"]
        async with alice.delete(url / "data") as response:
            assert response.status == 204
        async with alice.get(url / disk["id"]) as response:
            assert response.status == 404


async def test_disk_holds_no_more_than_its_size(disk_server: PlatformServer) -> None:
    async with _session(disk_server, "alice") as alice:
        disk = await _create(alice, disk_server.api_url / "disk", storage=8 * MIB)
    mount_point = disk_server.data_dir / "disks" / disk["id"] / "mnt"
    with pytest.raises(OSError, match="No space left") as error:
        _write_mib(mount_point / "big", 16)
    assert error.value.errno == errno.ENOSPC


async def test_used_bytes_are_refreshed(disk_server: PlatformServer) -> None:
    url = disk_server.api_url / "disk"
    async with _session(disk_server, "alice") as alice:
        disk = await _create(alice, url, storage=16 * MIB)
        mount_point = disk_server.data_dir / "disks" / disk["id"] / "mnt"
        (mount_point / "four-mib").write_bytes(bytes(4 * MIB))
        while True:  # the refresh task runs every 0.2 s; the test timeout bounds the wait
            async with alice.get(url / disk["id"]) as response:
                used = (await response.json())["used_bytes"]
            if used >= 4 * MIB:
                break
            await asyncio.sleep(0.1)
    assert used < 16 * MIB


async def test_unused_disk_is_deleted_after_its_life_span(disk_server: PlatformServer) -> None:
    url = disk_server.api_url / "disk"
    async with _session(disk_server, "alice") as alice:
        keep = await _create(alice, url, storage=4 * MIB, name="keep")
        short = await _create(alice, url, storage=4 * MIB, life_span=1)
        assert short["life_span"] == 1
        while True:
            async with alice.get(url / short["id"]) as response:
                if response.status == 404:
                    break
            await asyncio.sleep(0.1)
        async with alice.get(url) as response:
            assert [d["id"] for d in await response.json()] == [keep["id"]]
    assert not (disk_server.data_dir / "disks" / short["id"]).exists()


async def test_total_size_per_user_is_limited(disk_server: PlatformServer) -> None:
    url = disk_server.api_url / "disk"
    async with _session(disk_server, "alice") as alice:
        await _create(alice, url, storage=48 * MIB)
        async with alice.post(url, json={"storage": 32 * MIB}) as response:
            assert response.status == 403
            body = await response.json()
        assert body["code"] == "over_limit"
        assert "limit" in body["description"]
    async with _session(disk_server, "bob") as bob:  # the limit is per user
        await _create(bob, url, storage=32 * MIB)


async def test_bad_requests_and_other_users(disk_server: PlatformServer) -> None:
    url = disk_server.api_url / "disk"
    async with _session(disk_server, "alice") as alice:
        disk = await _create(alice, url, storage=4 * MIB, name="mine")
        async with alice.post(url, json={"storage": 4 * MIB, "name": "mine"}) as response:
            assert response.status == 409
            assert (await response.json())["code"] == "unique_violation"
        for body in (
            {"storage": "big"},
            {"storage": 10},
            {"storage": 4 * MIB, "name": "Bad_Name"},
            {"storage": 4 * MIB, "name": "ab"},
            {"storage": 4 * MIB, "life_span": -5},
        ):
            async with alice.post(url, json=body) as response:
                assert response.status == 400, body
    async with _session(disk_server, "bob") as bob:
        async with bob.get(url) as response:
            assert await response.json() == []
        async with bob.get(url / disk["id"]) as response:
            assert response.status == 403
        async with bob.get(url / "mine", params={"owner": "alice"}) as response:
            assert response.status == 403
        async with bob.delete(url / disk["id"]) as response:
            assert response.status == 403


def _write_mib(path: Path, count: int) -> None:
    with path.open("wb") as f:
        for _ in range(count):
            f.write(bytes(MIB))
            f.flush()
