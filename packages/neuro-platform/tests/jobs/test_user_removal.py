"""Removing a user on a real server with real containers: everything they had goes at once,
and a new account of the same name starts empty."""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from neuro_platform.db.engine import create_engine, create_session_factory
from neuro_platform.jobs.models import JobRow
from neuro_platform.testing import PlatformServer

from .client import JobsClient
from .conftest import ServerFactory, busybox_job

MIB = 1024**2


class Api:
    def __init__(self, server: PlatformServer, token: str) -> None:
        self.url = server.api_url
        self.session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.session.request(method, self.url / path, **kwargs) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text) if text.strip() else None
            except ValueError:  # a file's content
                return response.status, text

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body = await self.call(method, path, **kwargs)
        assert 200 <= status < 300, (status, body)
        return body

    async def upload(self, path: str, data: bytes) -> None:
        url = (self.url / "storage" / path).with_query(op="CREATE")
        async with self.session.put(url, data=io.BytesIO(data)) as response:
            assert response.status == 201, await response.text()

    async def read(self, path: str) -> int:
        status, _ = await self.call("GET", f"storage/{path}", params={"op": "OPEN"})
        return status

    async def close(self) -> None:
        await self.session.close()


async def _job_row(server: PlatformServer, job_id: str) -> JobRow:
    engine = create_engine(server.settings().database_url)
    try:
        async with create_session_factory(engine)() as session:
            row = await session.scalar(select(JobRow).where(JobRow.id == job_id))
            assert row is not None
            return row
    finally:
        await engine.dispose()


async def test_removed_user_leaves_nothing_a_new_account_inherits(
    make_server: ServerFactory, busybox_image: str
) -> None:
    with make_server() as server:
        async with JobsClient(server, "alice") as alice_jobs:
            job = await alice_jobs.submit(busybox_job("sleep 1000"))
            await alice_jobs.wait_for(job["id"], ["running"])
        alice = Api(server, server.issue_token("alice"))
        bob = Api(server, server.issue_token("bob"))
        try:
            await alice.ok("POST", "secrets", json={"key": "pw", "value": "eA=="})
            await alice.ok("POST", "disk", json={"storage": 16 * MIB, "name": "data"})
            account = await alice.ok(
                "POST", "service_accounts", json={"name": "ci", "default_cluster": "default"}
            )
            robot = Api(server, json.loads(base64.b64decode(account["token"]))["token"])
            await alice.upload("alice/shared/f.txt", b"alice's")
            await bob.upload("bob/for-alice/g.txt", b"bob's")
            to_bob = [{"uri": "storage://default/alice/shared", "action": "read"}]
            to_alice = [{"uri": "storage://default/bob/for-alice", "action": "read"}]
            await alice.ok("POST", "users/bob/permissions", json=to_bob)
            await bob.ok("POST", "users/alice/permissions", json=to_alice)
            # Every credential works (and is cached by the server) before the removal.
            for api in (alice, robot):
                assert (await api.call("GET", "jobs"))[0] == 200
            assert await bob.read("alice/shared/f.txt") == 200

            output = server.admin("user", "remove", "alice")

            # At once, without waiting: the CLI returned after the server acted.
            for api in (alice, robot):
                status, body = await api.call("GET", "jobs")
                assert status == 401, body
            row = await _job_row(server, job["id"])
            assert row.status == "cancelled"
            assert row.owner == "alice.removed-1"  # no account can have this name
            assert row.statuses[-1]["reason"] == "UserRemoved"
            assert "alice was removed" in row.statuses[-1]["description"]
            for line in (
                "Removed user alice",
                "  secrets: 1",
                "  service accounts: 1",
                "    alice/service-accounts/ci (token revoked)",
                "  jobs ended: 1",
                "  disks destroyed: 1",
            ):
                assert line in output.splitlines(), output
            # Both shares: alice's to bob (on her tree) and bob's to alice (held by her).
            assert "  permission grants (held by them or on their resources): 2" in output
            assert await bob.read("alice/shared/f.txt") == 403
            storage = server.data_dir / "storage" / "default"
            assert not (storage / "alice").exists()
            kept = re.search(r"^    (/.*\.removed-users/alice\.\S+)$", output, re.MULTILINE)
            assert kept is not None, output
            assert (Path(kept[1]) / "shared" / "f.txt").read_bytes() == b"alice's"

            server.create_user("alice", "alice-new-password")
            new = Api(server, server.issue_token("alice"))
            try:
                assert await new.ok("GET", "jobs") == {"jobs": []}
                assert await new.ok("GET", "secrets") == []
                assert await new.ok("GET", "disk") == []
                assert await new.ok("GET", "service_accounts") == []
                held = await new.ok("GET", "users/alice/permissions")
                assert [p for p in held if "bob" in p["uri"]] == []  # only her own trees
                assert await new.read("bob/for-alice/g.txt") == 403
                assert await new.read("alice/shared/f.txt") == 404
                # Hostile: the removed account's credentials do not work for the new one.
                for api in (alice, robot):
                    assert (await api.call("GET", "jobs"))[0] == 401
            finally:
                await new.close()
            await robot.close()
        finally:
            await alice.close()
            await bob.close()


async def test_a_removal_while_the_server_is_down_is_finished_before_it_serves(
    make_server: ServerFactory, busybox_image: str, tmp_path: Path
) -> None:
    instance = f"test-{uuid.uuid4().hex[:12]}"
    with make_server(instance=instance, tmp_path=tmp_path) as server:
        async with JobsClient(server, "alice") as alice:
            job = await alice.submit(busybox_job("sleep 1000"))
            await alice.wait_for(job["id"], ["running"])
    # The server is stopped (its job container keeps running, to be adopted again).
    output = server.admin("user", "remove", "alice", "--wait-s", "0")
    assert "  jobs to end: 1, disks to destroy: 0 (the server does this" in output, output
    server.create_user("alice", "alice-new-password")

    with make_server(instance=instance, tmp_path=tmp_path, restart=True) as restarted:
        # Hostile: the new alice's very first request must not see the old account's job.
        new = Api(restarted, restarted.issue_token("alice"))
        try:
            assert await new.ok("GET", "jobs") == {"jobs": []}
        finally:
            await new.close()
        row = await _job_row(restarted, job["id"])
        assert row.status == "cancelled"
        assert row.statuses[-1]["reason"] == "UserRemoved"
