"""Two `serve` processes on one PostgreSQL and one data dir: the leader is killed with SIGKILL
in the middle of a burst of submissions, the other takes over, and every job runs exactly
once (docs/scale-out.md, "Several platform processes")."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from neuro_platform.orchestrator.naming import LABEL_INSTANCE
from neuro_platform.orchestrator.testing import remove_instance_containers
from neuro_platform.testing.server import ServerProcess, serving

from .client import FINISHED, JobsClient
from .conftest import busybox_job, jobs_config

POSTGRES_URL_ENV = "NEURO_TEST_POSTGRES_URL"
LEADING = b"leading: "  # what leadership.py logs when a process wins
JOBS = 12

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get(POSTGRES_URL_ENV), reason="needs PostgreSQL"),
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


def leads(process: ServerProcess) -> bool:
    assert process.server.log_file is not None
    return LEADING in process.server.log_file.read_bytes()


def _container_starts(instance: str, since: datetime) -> Counter[str]:
    """How many times the engine started each container of `instance` since `since`."""
    events = subprocess.run(
        [
            *("docker", "events", "--since", since.isoformat()),
            *("--until", datetime.now(UTC).isoformat()),
            *("--filter", f"label={LABEL_INSTANCE}={instance}", "--filter", "event=start"),
            *("--format", "{{.Actor.Attributes.name}}"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return Counter(events.stdout.split())


@dataclass
class Pair:
    instance: str
    leader: ServerProcess
    follower: ServerProcess


@pytest.fixture
def pair(tmp_path: Path, database_url: str, busybox_image: str) -> Iterator[Pair]:
    """Two servers on one database and data dir, alice created; which one leads is known."""
    instance = f"test-{uuid.uuid4().hex[:12]}"
    data_dir = tmp_path / "platform-data"
    config_file = tmp_path / "platform.toml"
    config: dict[str, Any] = {"server": {"host": "127.0.0.1"}, "database": {"url": database_url}}
    config.update(jobs_config(instance))
    config_file.write_text(tomli_w.dumps(config))
    try:
        with (
            serving(tmp_path, "a", data_dir, config_file) as a,
            serving(tmp_path, "b", data_dir, config_file) as b,
        ):
            a.server.create_user("alice", "alice-password")
            while not (leads(a) or leads(b)):
                time.sleep(0.1)
            assert not (leads(a) and leads(b))
            yield Pair(instance, a, b) if leads(a) else Pair(instance, b, a)
    finally:
        remove_instance_containers(instance)


async def test_a_job_submitted_to_the_follower_runs_and_its_state_is_current_there(
    pair: Pair,
) -> None:
    # The follower keeps no copy of the job: the leader's changes show on its API.
    async with JobsClient(pair.follower.server, "alice") as on_follower:
        job = await on_follower.submit(busybox_job("echo hello"))
        await on_follower.wait_for(job["id"], ["succeeded"])
        assert await on_follower.logs(job["id"]) == b"hello\n"


async def test_the_survivor_takes_over_and_every_job_runs_once(pair: Pair) -> None:
    since = datetime.now(UTC)
    leader, survivor = pair.leader, pair.follower
    async with (
        JobsClient(leader.server, "alice") as on_leader,
        JobsClient(survivor.server, "alice") as on_survivor,
    ):
        body = busybox_job("echo started; sleep 1")
        submitted = []
        # The first half is spread over both processes; then the leader dies while those
        # jobs are being placed and started, and the rest go to the survivor.
        for i in range(JOBS // 2):
            client = on_leader if i % 2 else on_survivor
            submitted.append((await client.submit(body))["id"])
        # A job running when the leader dies: its container must be adopted, not started
        # again.
        await on_survivor.wait_for(submitted[0], ["running"])
        leader.process.kill()
        leader.process.join()
        for _ in range(JOBS // 2):
            submitted.append((await on_survivor.submit(body))["id"])

        for job_id in submitted:
            await on_survivor.wait_for(job_id, FINISHED)
        finished = [await on_survivor.wait_until_collected(j) for j in submitted]
        assert [job["status"] for job in finished] == ["succeeded"] * JOBS
        assert leads(survivor)
        # The API keeps answering on the survivor, the leader's jobs included.
        listed = {job["id"] for job in await on_survivor.list()}
        assert set(submitted) <= listed
        for job_id in submitted:
            assert (await on_survivor.logs(job_id)).count(b"started") == 1

    starts = _container_starts(pair.instance, since)
    assert len(starts) == JOBS, starts
    assert set(starts.values()) == {1}, starts


async def test_a_revoke_on_one_process_counts_at_once_on_the_other(pair: Pair) -> None:
    """Permission answers are cached per process (permissions/cache.py): a share revoked on
    one server must not keep working on the other for the cache's lifetime."""
    pair.leader.server.create_user("bob", "bob-password")
    async with (
        JobsClient(pair.leader.server, "alice") as alice,
        JobsClient(pair.follower.server, "bob") as bob_on_follower,
    ):
        job = await alice.submit(busybox_job("true"))
        grants = alice.server.api_url / "users" / "bob" / "permissions"
        async with alice.session.post(grants, json=[{"uri": job["uri"], "action": "read"}]) as r:
            assert r.status == 201, await r.text()
        await bob_on_follower.get(job["id"])  # allowed, and now cached on the follower
        async with alice.session.delete(grants % {"uri": job["uri"]}) as r:
            assert r.status == 204, await r.text()
        async with bob_on_follower.session.get(bob_on_follower.jobs_url / job["id"]) as r:
            assert r.status in (403, 404), await r.text()
