"""Secrets, disks and storage folders in jobs (docs/protocol.md §3.1), on the real server and
dockerd.

The tests share one server, so each uses its own secret keys and disk
names.
"""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from neuro_platform.testing import PlatformServer

from .client import JobsClient
from .conftest import busybox_job

SECRET = "s3cr3t-" + uuid.uuid4().hex
MIB = 1024**2


class Resources:
    """Secrets, disks and storage files of one user, through the public API."""

    def __init__(self, server: PlatformServer, user: str, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.user = user
        self.session = session

    async def add_secret(self, key: str, value: str) -> None:
        body = {"key": key, "value": base64.b64encode(value.encode()).decode()}
        async with self.session.post(self.server.api_url / "secrets", json=body) as response:
            assert response.status == 201, await response.text()

    async def remove_secret(self, key: str) -> None:
        async with self.session.delete(self.server.api_url / "secrets" / key) as response:
            assert response.status == 204, await response.text()

    async def create_disk(self, name: str) -> dict[str, Any]:
        body = {"storage": 16 * MIB, "name": name, "life_span": None}
        async with self.session.post(self.server.api_url / "disk", json=body) as response:
            assert response.status == 201, await response.text()
            disk: dict[str, Any] = await response.json()
            return disk

    async def put_file(self, path: str, data: bytes) -> None:
        url = (self.server.api_url / "storage" / path).with_query(op="CREATE")
        async with self.session.put(url, data=io.BytesIO(data)) as response:
            assert response.status == 201, await response.text()

    async def read_file(self, path: str) -> bytes:
        url = (self.server.api_url / "storage" / path).with_query(op="OPEN")
        async with self.session.get(url) as response:
            assert response.status == 200, await response.text()
            return await response.read()


@pytest.fixture
async def server(
    shared_server: PlatformServer, busybox_image: str
) -> AsyncIterator[PlatformServer]:
    yield shared_server
    # The node has room for two small jobs: a test that failed midway must not keep them.
    for user in ("alice", "bob"):
        async with JobsClient(shared_server, user) as client:
            for status in ("pending", "running", "suspended"):
                for job in await client.list([("status", status), ("owner", user)]):
                    await client.kill(job["id"])


async def _as(server: PlatformServer, user: str) -> tuple[JobsClient, Resources]:
    client = JobsClient(server, user)
    return client, Resources(server, user, client.session)


async def test_job_sees_secret_env_and_0440_file_and_api_never_returns_the_value(
    server: PlatformServer,
) -> None:
    alice, resources = await _as(server, "alice")
    async with alice:
        await resources.add_secret("db-password", SECRET)
        uri = "secret://default/alice/db-password"
        body = busybox_job(
            'echo "env=$PASSWORD"; stat -c mode=%a /run/secrets/pw; '
            'echo "file=$(cat /run/secrets/pw)"',
            secret_env={"PASSWORD": uri},
            secret_volumes=[{"src_secret_uri": uri, "dst_path": "/run/secrets/pw"}],
        )
        submitted = await alice.submit(body)
        finished = await alice.wait_for(submitted["id"], ["succeeded"])
        # Read the output once archived: reading it live while the container is being
        # collected is the logs feature's business, not what these tests are about.
        collected = await alice.wait_until_collected(submitted["id"])
        output = (await alice.logs(submitted["id"])).decode()
        listed = await alice.list([("status", "succeeded")], ndjson=False)
    assert f"env={SECRET}" in output
    assert "mode=440" in output
    assert f"file={SECRET}" in output
    assert finished["container"]["secret_env"] == {"PASSWORD": uri}
    assert finished["container"]["secret_volumes"] == [
        {"src_secret_uri": uri, "dst_path": "/run/secrets/pw"}
    ]
    for answer in (submitted, finished, collected, listed):
        assert SECRET not in str(answer)
    assert SECRET not in (server.data_dir.parent / "platform.log").read_text()
    # The secret file lives only while the container does.
    assert not (server.data_dir / "job-secrets" / submitted["id"]).exists()


async def test_removed_secret_never_reaches_a_job_that_had_not_started(
    server: PlatformServer,
) -> None:
    alice, resources = await _as(server, "alice")
    async with alice:
        await resources.add_secret("token", SECRET)
        # Two `half` jobs fill the node, so the secret's job waits.
        blockers = [
            await alice.submit(busybox_job("sleep 1000", preset_name="half")) for _ in range(2)
        ]
        for blocker in blockers:
            await alice.wait_for(blocker["id"], ["running"])
        waiting = await alice.submit(
            busybox_job('echo "got=$TOKEN"', secret_env={"TOKEN": "secret://default/alice/token"})
        )
        await alice.wait_for_reason(waiting["id"], "Scheduling")
        await resources.remove_secret("token")
        await alice.kill(blockers[0]["id"])
        job = await alice.wait_for(waiting["id"], ["failed"])
        await alice.wait_until_collected(waiting["id"])
        output = await alice.logs(waiting["id"])
        await alice.kill(blockers[1]["id"])
    assert job["status"] == "failed"
    assert "secret://default/alice/token was removed" in job["history"]["description"]
    assert SECRET.encode() not in output


async def test_disk_outlives_its_jobs_and_has_one_writer_at_a_time(
    server: PlatformServer,
) -> None:
    alice, resources = await _as(server, "alice")
    async with alice:
        disk = await resources.create_disk("results")
        uri = "disk://default/alice/results"
        writer = await alice.submit(
            busybox_job(
                "echo kept > /data/out; sleep 1000",
                disk_volumes=[{"src_disk_uri": uri, "dst_path": "/data", "read_only": False}],
            )
        )
        await alice.wait_for(writer["id"], ["running"])
        status, error = await alice.submit_error(
            busybox_job(
                "true",
                disk_volumes=[{"src_disk_uri": uri, "dst_path": "/d", "read_only": False}],
            )
        )
        async with alice.session.delete(server.api_url / "disk" / disk["id"]) as response:
            removal_status = response.status
        await alice.kill(writer["id"])
        await alice.wait_until_collected(writer["id"])
        reader = await alice.submit(
            busybox_job(
                "cat /data/out; touch /data/new 2>/dev/null || echo read-only",
                disk_volumes=[{"src_disk_uri": uri, "dst_path": "/data", "read_only": True}],
            )
        )
        await alice.wait_for(reader["id"], ["succeeded"])
        await alice.wait_until_collected(reader["id"])
        output = await alice.logs(reader["id"])
    assert status == 400
    assert "mounted read-write by another job" in error["error"]
    assert removal_status == 400  # `disk rm` leaves alone a disk a job holds
    assert output.splitlines()[0] == b"kept"
    assert b"read-only" in output
    assert reader["container"]["disk_volumes"] == [
        {"src_disk_uri": uri, "dst_path": "/data", "read_only": True}
    ]


async def test_another_users_secret_or_disk_is_forbidden(server: PlatformServer) -> None:
    alice, alice_resources = await _as(server, "alice")
    bob, _ = await _as(server, "bob")
    async with alice, bob:
        await alice_resources.add_secret("mine", SECRET)
        await alice_resources.create_disk("mine")
        secret_status, secret_error = await bob.submit_error(
            busybox_job("true", secret_env={"X": "secret://default/alice/mine"})
        )
        disk_status, disk_error = await bob.submit_error(
            busybox_job(
                "true",
                disk_volumes=[{"src_disk_uri": "disk://default/alice/mine", "dst_path": "/d"}],
            )
        )
        unknown_status, unknown_error = await alice.submit_error(
            busybox_job("true", secret_env={"X": "secret://default/alice/nothing"})
        )
    assert (secret_status, disk_status) == (403, 403)
    assert secret_error["missing"][0]["uri"] == "secret://default/alice/mine"
    assert disk_error["missing"][0]["action"] == "read"
    assert unknown_status == 400
    assert "not found" in unknown_error["error"]


async def test_job_reads_a_read_only_volume_and_writes_a_read_write_one(
    server: PlatformServer,
) -> None:
    alice, resources = await _as(server, "alice")
    async with alice:
        await resources.put_file("alice/inputs/numbers.txt", b"1\n2\n3\n")
        job = await alice.submit(
            busybox_job(
                "wc -l < /in/numbers.txt > /out/count.txt; "
                "echo x > /in/forbidden && echo wrote-ro || echo ro-refused",
                volumes=[
                    {
                        "src_storage_uri": "storage://default/alice/inputs",
                        "dst_path": "/in",
                        "read_only": True,
                    },
                    {
                        "src_storage_uri": "storage://default/alice/outputs",
                        "dst_path": "/out",
                        "read_only": False,
                    },
                ],
            )
        )
        await alice.wait_for(job["id"], ["succeeded"])
        await alice.wait_until_collected(job["id"])
        output = await alice.logs(job["id"])
        count = await resources.read_file("alice/outputs/count.txt")
    assert count.strip() == b"3"
    assert b"ro-refused" in output
    assert not list(server.data_dir.rglob("forbidden"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {
                "volumes": [{"src_storage_uri": "storage://default/alice/a", "dst_path": "/m"}],
                "disk_volumes": [{"src_disk_uri": "disk://default/alice/d", "dst_path": "/m"}],
            },
            "dst_path values must be unique",
        ),
        (
            {"env": {"X": "1"}, "secret_env": {"X": "secret://default/alice/k"}},
            "X is set both in env and in secret_env",
        ),
        (
            {"pass_config": True, "secret_env": {"NEURO_PASSED_CONFIG": "secret://default/alice/k"}},
            "Cannot pass config",
        ),
        ({"secret_env": {"X": "secret://other/alice/k"}}, "not in the job's cluster"),
        ({"secret_volumes": [{"src_secret_uri": "storage://default/alice/k", "dst_path": "/k"}]},
         "must be a secret:// URI"),
    ],
)  # fmt: skip
async def test_malformed_volume_fields_are_refused(
    alice: JobsClient, fields: dict[str, Any], message: str
) -> None:
    status, error = await alice.submit_error(busybox_job("true", **fields))
    assert status == 400
    assert message in error["error"]
