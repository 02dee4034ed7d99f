"""The usage history behind the console's charts: a job is sampled while its chart is open."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from neuro_platform.monitoring.usage_history import MAX_SAMPLES, UsageHistory
from neuro_platform.orchestrator import ContainerStats
from neuro_platform.testing import PlatformServer

from ..jobs.client import JobsClient
from ..jobs.conftest import busybox_job


def test_a_long_life_is_kept_whole_and_coarser() -> None:
    async def no_stats(job_id: str) -> ContainerStats | None:
        return None

    history = UsageHistory(no_stats)
    for n in range(MAX_SAMPLES * 3):
        history.record("job-1", ContainerStats(cpu=n, memory_bytes=n), at=float(n))
    samples = history.samples("job-1")
    assert len(samples) <= MAX_SAMPLES
    assert samples[0].time == 0.0  # from the start...
    assert samples[-1].time == MAX_SAMPLES * 3 - 1  # ...to now
    assert history.samples("job-2") == []


async def test_a_running_job_gets_samples_its_owner_sees_and_no_one_else(
    console_server: PlatformServer,
) -> None:
    alice = {"Authorization": f"Bearer {console_server.issue_token('alice')}"}
    bob = {"Authorization": f"Bearer {console_server.issue_token('bob')}"}
    body = {
        "image": "neuro-base/busybox:latest",
        "command": "sleep 600",
        "preset_name": "small",
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(
            console_server.api_url / "jobs", params={"from_preset": ""}, json=body, headers=alice
        ) as response:
            assert response.status == 202, await response.text()
            job_id = (await response.json())["id"]
        top = console_server.base_url / "console" / "jobs" / job_id / "top"
        try:
            samples: list[list[float]] = []
            while len(samples) < 2:  # the sampler takes one every 5 s; the test's timeout bounds it
                await asyncio.sleep(1)
                async with session.get(top, headers=alice) as response:
                    assert response.status == 200
                    answer = await response.json()
                samples = answer["samples"]
            assert answer["status"] == "running"
            assert samples[0][0] < samples[1][0]
            assert samples[1][2] > 0  # memory in MiB
            async with session.get(top.with_query(since=samples[1][0]), headers=alice) as response:
                assert all(s[0] > samples[1][0] for s in (await response.json())["samples"])
            async with session.get(top, headers=bob) as response:
                assert response.status == 403  # as the API answers bob for alice's job
            async with session.get(top.with_query(since="x"), headers=alice) as response:
                assert response.status == 400
        finally:
            async with session.delete(console_server.api_url / "jobs" / job_id, headers=alice):
                pass


async def test_a_job_is_sampled_only_once_its_chart_is_open(
    console_server: PlatformServer,
) -> None:
    async with JobsClient(console_server, "alice") as alice:

        async def samples(job_id: str) -> list[list[float]]:
            top = console_server.base_url / "console" / "jobs" / job_id / "top"
            async with alice.session.get(top) as response:
                assert response.status == 200, await response.text()
                found: list[list[float]] = (await response.json())["samples"]
                return found

        async def sampled_since(job_id: str, since: float) -> None:
            """Asks for the job's chart (watching it) until it has a sample taken after `since`
            (the test's timeout bounds the wait)."""
            while True:
                if any(s[0] > since for s in await samples(job_id)):
                    return
                await asyncio.sleep(1)

        watched, unwatched = [(await alice.submit(busybox_job("sleep 600")))["id"] for _ in "ab"]
        try:
            for job_id in (watched, unwatched):
                await alice.wait_for(job_id, {"running"})
            both_running = time.time()
            # One chart is open: its job gets a sample taken while both jobs ran...
            await sampled_since(watched, both_running)
            # ...and the other, whose chart nobody opened, has none (a sampler of every running
            # job took one of it in that pass).
            assert await samples(unwatched) == []
            # Its chart open, it is sampled too.
            await sampled_since(unwatched, both_running)
        finally:
            for job_id in (watched, unwatched):
                await alice.kill(job_id)
