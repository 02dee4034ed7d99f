"""The jobs API of docs/protocol.md §3 on a real server: submit, watch, list, get, kill, share."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from .client import JobsClient
from .conftest import MIB, busybox_job


@pytest.mark.both_orchestrators
async def test_preset_job_runs_and_succeeds_with_its_output(alice: JobsClient) -> None:
    submitted = await alice.submit(busybox_job("echo hello from the job", name="hello-job"))
    assert submitted["status"] == "pending"
    assert submitted["uri"] == f"job://default/alice/{submitted['id']}"
    assert submitted["container"]["resources"] == {
        "cpu": 0.5,
        "memory": 64 * MIB,
        "memory_mb": 64,
        "shm": False,
    }
    job = await alice.wait_for(submitted["id"], ["succeeded"])
    assert job["history"]["exit_code"] == 0
    assert job["history"]["reason"] == "Completed"
    assert [s["status"] for s in job["statuses"]][-2:] == ["running", "succeeded"]
    assert job["internal_hostname_named"] == "hello-job--alice.jobs.internal"
    assert await alice.logs(submitted["id"]) == b"hello from the job\n"


@pytest.mark.both_orchestrators
async def test_container_shape_job_fails_with_its_exit_code(alice: JobsClient) -> None:
    body = {
        "container": {
            "image": "neuro-base/busybox:latest",
            "command": "sh -c 'exit 3'",
            "resources": {"cpu": 0.2, "memory_mb": 32},  # the 22.6 client's memory field
        },
        "scheduler_enabled": False,
        "pass_config": False,
    }
    submitted = await alice.submit(body, from_preset=False)
    assert submitted["container"]["resources"]["memory"] == 32 * MIB
    job = await alice.wait_for(submitted["id"], ["failed"])
    assert (job["history"]["exit_code"], job["history"]["reason"]) == (3, "Error")


@pytest.mark.both_orchestrators
async def test_kill_cancels_a_running_job_by_name(alice: JobsClient) -> None:
    job = await alice.submit(busybox_job("sleep 300", name="sleeper"))
    await alice.wait_for(job["id"], ["running"])
    assert (await alice.get("sleeper"))["id"] == job["id"]
    assert await alice.kill("sleeper") == 204
    killed = await alice.get(job["id"])
    assert (killed["status"], killed["history"]["reason"]) == ("cancelled", "UserRequested")


async def test_racing_submissions_of_one_name_admit_one_job(alice: JobsClient) -> None:
    """A name is unique among its owner's unfinished jobs, also between submissions that race
    past the check: the database decides (a unique index on unfinished jobs' names)."""
    body = busybox_job("sleep 300", name="racer")
    outcomes = await asyncio.gather(*(alice.submit_error(body) for _ in range(6)))

    assert sorted(status for status, _ in outcomes) == [202] + [400] * 5
    refused = [answer["error"] for status, answer in outcomes if status == 400]
    assert all("already have a running job named 'racer'" in e for e in refused), refused
    [accepted] = [answer for status, answer in outcomes if status == 202]
    assert await alice.kill(accepted["id"]) == 204
    # Finished, it holds the name no longer.
    again = await alice.submit(busybox_job("true", name="racer"))
    await alice.wait_for(again["id"], ["succeeded"])


async def test_list_filters(alice: JobsClient) -> None:
    before = datetime.now(UTC)
    first = await alice.submit(busybox_job("true", name="list-a", tags=["list-test", "x"]))
    await asyncio.sleep(0.05)
    second = await alice.submit(busybox_job("sleep 300", name="list-b", tags=["list-test"]))
    between = datetime.now(UTC)
    await alice.wait_for(first["id"], ["succeeded"])
    await alice.wait_for(second["id"], ["running"])
    try:
        tagged = await alice.list([("tag", "list-test")])
        assert [j["id"] for j in tagged] == [first["id"], second["id"]]
        newest_first = await alice.list([("tag", "list-test"), ("reverse", "1")])
        assert [j["id"] for j in newest_first] == [second["id"], first["id"]]
        limited = await alice.list([("tag", "list-test"), ("reverse", "1"), ("limit", "1")])
        assert [j["id"] for j in limited] == [second["id"]]
        both_tags = await alice.list([("tag", "list-test"), ("tag", "x")], ndjson=False)
        assert [j["id"] for j in both_tags] == [first["id"]]
        by_status = await alice.list([("tag", "list-test"), ("status", "running")])
        assert [j["id"] for j in by_status] == [second["id"]]
        by_name = await alice.list([("name", "list-a"), ("owner", "alice")])
        assert [j["id"] for j in by_name] == [first["id"]]
        assert await alice.list([("name", "list-a"), ("owner", "bob")]) == []
        window = [("tag", "list-test"), ("since", before.isoformat())]
        assert len(await alice.list(window)) == 2
        early = await alice.list([*window, ("until", between.isoformat())])
        assert len(early) == 2
        assert await alice.list([("tag", "list-test"), ("since", between.isoformat())]) == []
        dropped = await alice.list([("tag", "list-test"), ("being_dropped", "True")])
        assert dropped == []
    finally:
        await alice.kill(second["id"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (busybox_job("true", name="Bad_Name"), "Invalid job name"),
        (busybox_job("true", tags=["has space"]), "Invalid tag"),
        (busybox_job("true", tags=[f"t{i}" for i in range(17)]), "at most 16"),
        (busybox_job("true", schedule_timeout=0.5), "schedule_timeout"),
        (busybox_job("true", preset_name="nope"), "Preset 'nope' not found"),
        (busybox_job("true", resources={"cpu": 1}), "Both preset and resources"),
        (busybox_job("true", restart_policy="sometimes"), "restart_policy"),
        (busybox_job("true", working_dir="relative"), "working_dir"),
    ],
)
async def test_invalid_submissions_are_400(
    alice: JobsClient, body: dict[str, object], message: str
) -> None:
    status, error = await alice.submit_error(body)
    assert status == 400
    assert message in error["error"]


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"cpu": 0.05, "memory": 64 * MIB}, "cpu must be"),
        ({"cpu": 0.5, "memory": 8 * MIB}, "at least 16 MiB"),
        ({"cpu": 0.5, "memory": 64 * MIB, "gpu": 1, "gpu_model": "tesla-k80"}, "gpu_model"),
        ({"cpu": 8, "memory": 64 * MIB}, "more than the node has"),
    ],
)
async def test_invalid_resources_are_400(
    alice: JobsClient, resources: dict[str, object], message: str
) -> None:
    body = {"container": {"image": "neuro-base/busybox:latest", "resources": resources}}
    status, error = await alice.submit_error(body, from_preset=False)
    assert status == 400
    assert message in error["error"]


@pytest.mark.both_orchestrators
async def test_another_user_needs_a_share_to_see_or_kill(
    alice: JobsClient, bob: JobsClient
) -> None:
    job = await alice.submit(busybox_job("sleep 300", name="private"))
    uri = job["uri"]
    async with bob.session.get(bob.jobs_url / job["id"]) as response:
        assert response.status == 403
        assert (await response.json())["missing"] == [{"uri": uri, "action": "read"}]
    assert job["id"] not in [j["id"] for j in await bob.list()]
    assert await bob.kill(job["id"]) == 403

    share_url = alice.server.api_url / "users" / "bob" / "permissions"
    async with alice.session.post(share_url, json=[{"uri": uri, "action": "read"}]) as response:
        assert response.status == 201, await response.text()
    assert (await bob.get(job["id"]))["owner"] == "alice"
    assert job["id"] in [j["id"] for j in await bob.list([("owner", "alice")])]
    assert await bob.kill(job["id"]) == 403  # reading is not killing
    assert await alice.kill(job["id"]) == 204


async def test_unknown_job_is_404(alice: JobsClient) -> None:
    async with alice.session.get(alice.jobs_url / "job-00000000-0000-0000-0000-000000000000") as r:
        assert r.status == 404


async def test_capacity_counts_free_room_per_preset(alice: JobsClient) -> None:
    async with alice.session.get(alice.jobs_url / "capacity") as response:
        assert response.status == 200
        before = await response.json()
    assert before == {"small": 2, "half": 2, "spot": 2}
    job = await alice.submit(busybox_job("sleep 300", preset_name="half"))
    await alice.wait_for(job["id"], ["running"])
    async with alice.session.get(alice.jobs_url / "capacity") as response:
        assert await response.json() == {"small": 1, "half": 1, "spot": 1}
    await alice.kill(job["id"])
