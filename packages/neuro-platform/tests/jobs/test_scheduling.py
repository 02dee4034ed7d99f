"""The scheduler on a tiny node (room for two `small` jobs): order, quota, timeouts,
life span, restarts, preemption, passed config, and surviving a platform restart."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from pathlib import Path

from yarl import URL

from .client import JobsClient
from .conftest import ServerFactory, busybox_job, wait_for_container


async def test_priority_then_submission_order_on_a_full_node(
    make_server: ServerFactory, busybox_image: str
) -> None:
    with make_server() as server:
        async with JobsClient(server, "alice") as alice:
            blockers = [
                await alice.submit(busybox_job("sleep 300", preset_name="half")) for _ in range(2)
            ]
            for blocker in blockers:
                await alice.wait_for(blocker["id"], ["running"])
            low = await alice.submit(busybox_job("sleep 300", preset_name="half", priority="low"))
            normal = await alice.submit(busybox_job("sleep 300", preset_name="half"))
            high = await alice.submit(busybox_job("sleep 300", preset_name="half", priority="high"))
            assert (await alice.wait_for(low["id"], ["pending"]))["history"]["reason"]
            started: list[str] = []
            for blocker in blockers:
                await alice.kill(blocker["id"])
                running = await _wait_for_one_running(alice, [low, normal, high], started)
                started.append(running)
            assert started == [high["id"], normal["id"]]
            assert (await alice.get(low["id"]))["status"] == "pending"


async def _wait_for_one_running(
    client: JobsClient, jobs: list[dict[str, object]], known: list[str]
) -> str:
    while True:
        for job in jobs:
            current = await client.get(str(job["id"]))
            if current["status"] == "running" and current["id"] not in known:
                return str(current["id"])
        await asyncio.sleep(0.1)


async def test_quota_makes_jobs_wait_or_fail(
    make_server: ServerFactory, busybox_image: str
) -> None:
    with make_server(max_running_jobs_per_user=1) as server:
        async with JobsClient(server, "alice") as alice:
            first = await alice.submit(busybox_job("sleep 300"))
            status, error = await alice.submit_error(busybox_job("sleep 300"))
            assert status == 400
            assert "quota" in error["error"]
            waiting = await alice.submit(busybox_job("echo waited", wait_for_jobs_quota=True))
            await alice.wait_for(first["id"], ["running"])
            pending = await alice.get(waiting["id"])
            assert pending["status"] == "pending"
            await alice.wait_for_reason(waiting["id"], "QuotaExhausted")
            await alice.kill(first["id"])
            done = await alice.wait_for(waiting["id"], ["succeeded"])
            assert done["history"]["exit_code"] == 0


async def test_schedule_timeout_fails_a_job_that_finds_no_room(
    make_server: ServerFactory, busybox_image: str
) -> None:
    with make_server() as server:
        async with JobsClient(server, "alice") as alice:
            for _ in range(2):
                await alice.submit(busybox_job("sleep 300", preset_name="half"))
            late = await alice.submit(busybox_job("true", preset_name="half", schedule_timeout=1.0))
            failed = await alice.wait_for(late["id"], ["failed"])
            assert failed["history"]["reason"] == "ClusterScaleUpFailed"
            assert "started_at" not in failed["history"]


async def test_life_span_ends_a_job_and_can_be_bumped(
    make_server: ServerFactory, busybox_image: str
) -> None:
    with make_server(life_span_minute_s=1.0) as server:  # a "minute" lasts one second here
        async with JobsClient(server, "alice") as alice:
            job = await alice.submit(busybox_job("sleep 300", max_run_time_minutes=1))
            bumped = await alice.submit(busybox_job("sleep 300", max_run_time_minutes=1))
            url = alice.jobs_url / bumped["id"] / "max_run_time_minutes"
            async with alice.session.put(
                url, json={"additional_max_run_time_minutes": 600}
            ) as response:
                assert response.status == 204
            ended = await alice.wait_for(job["id"], ["cancelled"])
            assert ended["history"]["reason"] == "LifeSpanEnded"
            still = await alice.get(bumped["id"])
            assert (still["status"], still["max_run_time_minutes"]) == ("running", 601)
            await alice.kill(bumped["id"])


async def test_restart_policies_count_restarts_and_keep_every_run_output(
    make_server: ServerFactory, busybox_image: str
) -> None:
    with make_server() as server:
        async with JobsClient(server, "alice") as alice:
            failing = await alice.submit(
                busybox_job("echo run; exit 1", restart_policy="on-failure")
            )
            succeeding = await alice.submit(busybox_job("echo once", restart_policy="on-failure"))
            always = await alice.submit(busybox_job("echo again", restart_policy="always"))
            await alice.wait_for_restarts(failing["id"], 2)
            done = await alice.wait_for(succeeding["id"], ["succeeded"])
            assert done["history"]["restarts"] == 0
            await alice.wait_for_restarts(always["id"], 1)
            assert (await alice.get(always["id"]))["status"] == "running"
            await alice.kill(always["id"])
            await alice.kill(failing["id"])
            # every run's output is kept
            assert (await alice.logs(failing["id"])).count(b"run\n") >= 3


async def test_preemptible_jobs_are_suspended_for_others_and_resume(
    make_server: ServerFactory, busybox_image: str
) -> None:
    with make_server() as server:
        async with JobsClient(server, "alice") as alice:
            spots = [
                await alice.submit(busybox_job("echo start; sleep 300", preset_name="spot"))
                for _ in range(2)
            ]
            for spot in spots:
                await alice.wait_for(spot["id"], ["running"])
            regular = await alice.submit(busybox_job("sleep 300", preset_name="half"))
            await alice.wait_for(regular["id"], ["running"])
            current = {s["id"]: (await alice.get(s["id"]))["status"] for s in spots}
            assert sorted(current.values()) == ["running", "suspended"]
            suspended = next(s for s in spots if current[s["id"]] == "suspended")
            await alice.kill(regular["id"])
            resumed = await alice.wait_for(suspended["id"], ["running"])
            assert [s["status"] for s in resumed["statuses"]][-3:] == [
                "running",
                "suspended",
                "running",
            ]
            for spot in spots:
                await alice.kill(spot["id"])


async def test_pass_config_gives_the_job_a_token_of_its_own(
    make_server: ServerFactory, busybox_image: str
) -> None:
    with make_server() as server:
        async with JobsClient(server, "alice") as alice:
            job = await alice.submit(
                busybox_job('echo "$NEURO_PASSED_CONFIG"; sleep 300', pass_config=True)
            )
            await alice.wait_for(job["id"], ["running"])
            line = b""
            while not line.strip():
                async with alice.session.get(alice.jobs_url / job["id"] / "log") as response:
                    line = await response.content.readline()
            config = json.loads(base64.b64decode(line.strip()))
            assert config["cluster"] == "default"
            # Not the server's loopback address, which the job cannot reach (see
            # test_job_networks.py): the same port on the engine's bridge.
            passed_url = URL(config["url"])
            assert passed_url.host != server.api_url.host
            assert (passed_url.port, passed_url.path) == (server.api_url.port, "/api/v1")
            headers = {"Authorization": f"Bearer {config['token']}"}
            async with alice.session.get(
                server.api_url / "jobs" / job["id"], headers=headers
            ) as response:
                assert response.status == 200  # the job acts as its owner ...
            await alice.kill(job["id"])
            async with alice.session.get(server.api_url / "config", headers=headers) as response:
                assert (await response.json())["authorized"] is False  # ... while it lives


async def test_a_restarted_platform_adopts_running_jobs_and_finishes_ended_ones(
    make_server: ServerFactory, busybox_image: str, tmp_path: Path
) -> None:
    instance = f"test-{uuid.uuid4().hex[:12]}"
    directory = tmp_path / "platform"
    directory.mkdir()
    with make_server(instance=instance, tmp_path=directory) as server:
        async with JobsClient(server, "alice") as alice:
            survivor = await alice.submit(busybox_job("echo before; sleep 300"))
            ender = await alice.submit(busybox_job("echo bye; sleep 2; exit 4"))
            await alice.wait_for(survivor["id"], ["running"])
            await alice.wait_for(ender["id"], ["running"])
    # The platform is down while `ender` exits.
    await wait_for_container(
        instance,
        ender["id"],
        lambda answer: answer.stdout.strip() == "exited",
        "inspect",
        "--format",
        "{{.State.Status}}",
    )
    with make_server(instance=instance, tmp_path=directory, restart=True) as server:
        async with JobsClient(server, "alice") as alice:
            ended = await alice.wait_for(ender["id"], ["failed"])
            assert ended["history"]["exit_code"] == 4
            assert await alice.logs(ender["id"]) == b"bye\n"
            assert (await alice.get(survivor["id"]))["status"] == "running"
            # The adopted job keeps its host name; the one that ended lost its own.
            looker = await alice.submit(busybox_job("cat /etc/hosts"))
            await alice.wait_for(looker["id"], ["succeeded"])
            names = (await alice.logs(looker["id"])).decode().split()
            assert survivor["internal_hostname"] in names
            assert ender["internal_hostname"] not in names
            await alice.kill(survivor["id"])
            assert await alice.logs(survivor["id"]) == b"before\n"
