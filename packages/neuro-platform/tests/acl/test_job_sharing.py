"""Sharing jobs: read shows bob the status, the list entry and the logs; only write kills."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from neuro_platform.orchestrator.testing import build_base_image, remove_instance_containers
from neuro_platform.testing import PlatformServer, running_platform
from neuro_platform.testing.fixtures import USERS

pytestmark = pytest.mark.docker  # its server runs real jobs

FINISHED = {"succeeded", "failed", "cancelled"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PlatformServer]:
    build_base_image("busybox")
    instance = f"acl-{uuid.uuid4().hex[:12]}"
    config = {
        "jobs": {"orchestrator_instance": instance, "poll_interval_s": 0.2},
        "clusters": [
            {"name": "default", "presets": [{"name": "small", "cpu": 0.5, "memory": 2**26}]}
        ],
    }
    try:
        with running_platform(tmp_path, config=config, users=USERS) as platform:
            yield platform
    finally:
        remove_instance_containers(instance)


@pytest.fixture
async def sessions(server: PlatformServer) -> AsyncIterator[dict[str, aiohttp.ClientSession]]:
    made = {
        name: aiohttp.ClientSession(headers={"Authorization": f"Bearer {server.issue_token(name)}"})
        for name in USERS
    }
    yield made
    for session in made.values():
        await session.close()


async def _submit(server: PlatformServer, alice: aiohttp.ClientSession, command: str) -> Any:
    body = {
        "image": "neuro-base/busybox:latest",
        "command": f"sh -c '{command}'",
        "preset_name": "small",
    }
    async with alice.post(server.api_url / "jobs" % {"from_preset": ""}, json=body) as response:
        assert response.status == 202, await response.text()
        return await response.json()


async def _status(
    server: PlatformServer, session: aiohttp.ClientSession, job_id: str
) -> tuple[int, Any]:
    async with session.get(server.api_url / "jobs" / job_id) as response:
        return response.status, await response.json()


async def _wait(
    server: PlatformServer, session: aiohttp.ClientSession, job_id: str, wanted: set[str]
) -> None:
    while True:  # the test timeout bounds the wait
        if (await _status(server, session, job_id))[1]["status"] in wanted:
            return
        await asyncio.sleep(0.2)


async def _logs(server: PlatformServer, session: aiohttp.ClientSession, job_id: str) -> bytes:
    chunks = []
    async with session.ws_connect(server.api_url / "jobs" / job_id / "log_ws") as ws:
        async for message in ws:
            chunks.append(message.data)
    return b"".join(chunks)


async def _share(
    server: PlatformServer, alice: aiohttp.ClientSession, uri: str, action: str
) -> None:
    url = server.api_url / "users" / "bob" / "permissions"
    async with alice.post(url, json=[{"uri": uri, "action": action}]) as response:
        assert response.status == 201, await response.text()


async def test_read_share_shows_status_and_logs_write_share_kills(
    server: PlatformServer, sessions: dict[str, aiohttp.ClientSession]
) -> None:
    alice, bob = sessions["alice"], sessions["bob"]
    done = await _submit(server, alice, "echo hello from alice")
    await _wait(server, alice, done["id"], FINISHED)
    running = await _submit(server, alice, "sleep 300")
    await _wait(server, alice, running["id"], {"running"})

    status, body = await _status(server, bob, done["id"])
    assert (status, body) == (403, {"missing": [{"uri": done["uri"], "action": "read"}]})

    await _share(server, alice, done["uri"], "read")
    await _share(server, alice, running["uri"], "read")
    assert (await _status(server, bob, done["id"]))[1]["status"] == "succeeded"
    assert b"hello from alice" in await _logs(server, bob, done["id"])
    async with bob.delete(server.api_url / "jobs" / running["id"]) as response:
        assert response.status == 403
    assert (await _status(server, bob, running["id"]))[1]["status"] == "running"

    await _share(server, alice, running["uri"], "write")
    async with bob.delete(server.api_url / "jobs" / running["id"]) as response:
        assert response.status == 204
    await _wait(server, alice, running["id"], FINISHED)
