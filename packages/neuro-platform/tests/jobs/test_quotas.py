"""Quotas set through the admin API (docs/protocol.md §2.7), enforced on real jobs: per-user
and per-org limits of running jobs, and credits spent by run time (`jobs/quota.py`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from neuro_platform.orchestrator.testing import remove_instance_containers
from neuro_platform.testing import PlatformServer, running_platform
from neuro_platform.testing.fixtures import USERS

from .client import JobsClient
from .conftest import PRESETS, busybox_job, jobs_config

# 36000 credits an hour: 10 a second, so a job spends a credit within moments.
PRICEY = {"name": "pricey", "cpu": 0.1, "memory": 32 * 1024**2, "credits_per_hour": "36000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    instance = f"test-{uuid.uuid4().hex[:12]}"
    config: dict[str, Any] = jobs_config(instance)
    config["node"] = {"cpu": 4.0, "memory": 2048 * 1024**2, "gpu": 0}
    config["clusters"] = [
        {"name": "default", "orgs": ["NO_ORG", "acme", "alpha"], "presets": [*PRESETS, PRICEY]}
    ]
    users = {**USERS, "carol": "carol-password"}
    try:
        with running_platform(tmp_path_factory.mktemp("quotas"), config=config, users=users) as s:
            s.admin("user", "role", "alice", "admin")
            yield s
    finally:
        remove_instance_containers(instance)


async def _admin_patch(server: PlatformServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    token = server.issue_token("alice")
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session,
        session.patch(server.api_url / "admin" / path, json=body) as response,
    ):
        assert response.status == 200, await response.text()
        result: dict[str, Any] = await response.json()
        return result


async def _account(server: PlatformServer, user: str) -> dict[str, Any]:
    token = server.issue_token(user)
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session,
        session.get(server.api_url / "admin" / "clusters/default/users" / user) as response,
    ):
        assert response.status == 200, await response.text()
        result: dict[str, Any] = await response.json()
        return result


async def _admin_post(server: PlatformServer, path: str, body: dict[str, Any]) -> int:
    token = server.issue_token("alice")
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session,
        session.post(server.api_url / "admin" / path, json=body) as response,
    ):
        return response.status


@pytest.fixture
async def acme_members(server: PlatformServer) -> None:
    """bob and carol are users of the org acme (working in an org takes membership)."""
    for user in ("bob", "carol"):
        status = await _admin_post(server, "orgs/acme/users", {"user_name": user, "role": "user"})
        assert status in (200, 201, 409)  # 409: an earlier test added them


@pytest.fixture
async def bob(server: PlatformServer, busybox_image: str) -> AsyncIterator[JobsClient]:
    async with JobsClient(server, "bob") as client:
        yield client
        for job in await client.list([("owner", "bob")]):
            if job["status"] in ("pending", "running", "suspended"):
                await client.kill(job["id"])


@pytest.fixture
async def carol(server: PlatformServer, busybox_image: str) -> AsyncIterator[JobsClient]:
    async with JobsClient(server, "carol") as client:
        yield client
        for job in await client.list([("owner", "carol")]):
            if job["status"] in ("pending", "running", "suspended"):
                await client.kill(job["id"])


async def test_a_user_quota_set_by_the_admin_refuses_or_holds_jobs(
    server: PlatformServer, bob: JobsClient
) -> None:
    await _admin_patch(
        server, "clusters/default/users/bob/quota", {"quota": {"total_running_jobs": 1}}
    )
    first = await bob.submit(busybox_job("sleep 300"))
    status, error = await bob.submit_error(busybox_job("sleep 300"))
    assert (status, error) == (400, {"error": "Jobs limit quota exceeded for user 'bob'"})
    waiting = await bob.submit(busybox_job("echo waited", wait_for_jobs_quota=True))
    await bob.wait_for(first["id"], ["running"])
    await bob.wait_for_reason(waiting["id"], "QuotaExhausted")
    await bob.kill(first["id"])
    done = await bob.wait_for(waiting["id"], ["succeeded"])
    assert done["history"]["exit_code"] == 0
    await _admin_patch(server, "clusters/default/users/bob/quota", {"quota": {}})


async def test_an_org_quota_counts_every_user_of_the_org(
    server: PlatformServer, bob: JobsClient, carol: JobsClient, acme_members: None
) -> None:
    await _admin_patch(
        server, "clusters/default/orgs/acme/quota", {"quota": {"total_running_jobs": 1}}
    )
    first = await carol.submit(busybox_job("sleep 300", org_name="acme"))
    status, error = await bob.submit_error(busybox_job("sleep 300", org_name="acme"))
    assert (status, error) == (400, {"error": "Jobs limit quota exceeded for org 'acme'"})
    # Outside the org, bob is not held back by it.
    outside = await bob.submit(busybox_job("true"))
    waiting = await bob.submit(busybox_job("true", org_name="acme", wait_for_jobs_quota=True))
    await carol.wait_for(first["id"], ["running"])
    await bob.wait_for_reason(waiting["id"], "QuotaExhausted")
    await bob.wait_for(outside["id"], ["succeeded"])
    await carol.kill(first["id"])
    await bob.wait_for(waiting["id"], ["succeeded"])
    await _admin_patch(server, "clusters/default/orgs/acme/quota", {"quota": {}})


async def test_credits_are_spent_by_run_time_and_then_refuse_jobs(
    server: PlatformServer, carol: JobsClient
) -> None:
    await _admin_patch(server, "clusters/default/users/carol/balance", {"credits": "1"})
    job = await carol.submit(busybox_job("sleep 300", preset_name="pricey"))
    await carol.wait_for(job["id"], ["running"])
    account = await _account(server, "carol")
    while Decimal(account["balance"]["credits"]) > 0:  # spent while the job runs
        await asyncio.sleep(0.1)
        account = await _account(server, "carol")
    assert Decimal(account["balance"]["spent_credits"]) >= 1
    status, error = await carol.submit_error(busybox_job("true"))
    assert (status, error) == (400, {"error": "No credits left for user 'carol'"})
    await carol.kill(job["id"])
    # More credits from the admin: jobs are accepted again.
    await _admin_patch(
        server, "clusters/default/users/carol/balance", {"additional_credits": "1000"}
    )
    again = await carol.submit(busybox_job("true"))
    await carol.wait_for(again["id"], ["succeeded"])


async def test_running_jobs_are_cancelled_when_their_owner_runs_out_of_credits(
    server: PlatformServer, bob: JobsClient
) -> None:
    # Credits enough to start, spent within moments by the pricey preset.
    await _admin_patch(server, "clusters/default/users/bob/balance", {"credits": "1"})
    job = await bob.submit(busybox_job("sleep 300", preset_name="pricey"))
    stopped = await bob.wait_for(job["id"], ["cancelled", "failed", "succeeded"])
    assert stopped["status"] == "cancelled"
    assert stopped["history"]["reason"] == "QuotaExhausted"
    assert stopped["history"]["description"] == "No credits left for user 'bob'"
    await _admin_patch(server, "clusters/default/users/bob/balance", {"credits": None})


async def test_an_orgs_spent_credits_stop_only_its_jobs(
    server: PlatformServer, bob: JobsClient, acme_members: None
) -> None:
    # bob's job outside the org (free preset) goes on while his org job is stopped.
    outside = await bob.submit(busybox_job("sleep 300"))
    await bob.wait_for(outside["id"], ["running"])
    await _admin_patch(server, "clusters/default/orgs/acme/balance", {"credits": "1"})
    in_org = await bob.submit(busybox_job("sleep 300", preset_name="pricey", org_name="acme"))
    stopped = await bob.wait_for(in_org["id"], ["cancelled", "failed", "succeeded"])
    assert stopped["status"] == "cancelled"
    assert stopped["history"]["reason"] == "QuotaExhausted"
    assert stopped["history"]["description"] == "No credits left for org 'acme'"
    assert (await bob.get(outside["id"]))["status"] == "running"
    await _admin_patch(server, "clusters/default/orgs/acme/balance", {"credits": None})


async def test_only_members_submit_into_an_org(server: PlatformServer, bob: JobsClient) -> None:
    # alpha is alice's org: bob is not a member, so his job there is refused, as in any org
    # he does not belong to; once alpha's admin adds him, it is accepted.
    joined = await _admin_post(server, "orgs/alpha/users", {"user_name": "alice", "role": "admin"})
    assert joined in (200, 201)
    status, error = await bob.submit_error(busybox_job("true", org_name="alpha"))
    assert (status, error) == (
        403,
        {"error": "User is not allowed to submit jobs to the specified org"},
    )
    assert not [job for job in await bob.list([("owner", "bob")]) if job.get("org_name") == "alpha"]
    # A cluster-user row of the org on this cluster makes him a member too.
    added = await _admin_post(
        server, "clusters/default/users", {"user_name": "bob", "role": "user", "org_name": "alpha"}
    )
    assert added in (200, 201)
    accepted = await bob.submit(busybox_job("true", org_name="alpha"))
    assert accepted["org_name"] == "alpha"


async def test_a_burst_of_submissions_refuses_only_the_bad_ones(
    server: PlatformServer, bob: JobsClient, carol: JobsClient
) -> None:
    # Submitted at once, the good jobs are committed together (`JobRepository.insert`); the
    # one over its owner's quota and the one naming no preset of the cluster each get their
    # own 400, and nothing else fails with them.
    await _admin_patch(
        server, "clusters/default/users/carol/quota", {"quota": {"total_running_jobs": 1}}
    )
    held = await carol.submit(busybox_job("sleep 300"))
    good = [bob.submit_error(busybox_job("true")) for _ in range(8)]
    over_quota = carol.submit_error(busybox_job("true"))
    invalid = bob.submit_error(busybox_job("true", preset_name="no-such-preset"))
    *accepted, refused, wrong = await asyncio.gather(*good, over_quota, invalid)

    assert [status for status, _ in accepted] == [202] * 8
    assert len({job["id"] for _, job in accepted}) == 8
    assert refused == (400, {"error": "Jobs limit quota exceeded for user 'carol'"})
    assert wrong == (400, {"error": "Preset 'no-such-preset' not found in cluster 'default'"})
    for _, job in accepted:
        assert (await bob.get(job["id"]))["id"] == job["id"]
    await carol.kill(held["id"])
    await _admin_patch(server, "clusters/default/users/carol/quota", {"quota": {}})


async def test_a_quota_lowered_after_a_submission_applies_to_the_next_one(
    server: PlatformServer, bob: JobsClient
) -> None:
    # The first submission leaves bob's account (no quota) in the server's cache; the admin's
    # change must empty it, not wait for it to expire.
    first = await bob.submit(busybox_job("sleep 300"))
    await _admin_patch(
        server, "clusters/default/users/bob/quota", {"quota": {"total_running_jobs": 1}}
    )
    status, error = await bob.submit_error(busybox_job("sleep 300"))
    assert (status, error) == (400, {"error": "Jobs limit quota exceeded for user 'bob'"})
    await bob.kill(first["id"])
    await _admin_patch(server, "clusters/default/users/bob/quota", {"quota": {}})
    again = await bob.submit(busybox_job("true"))
    await bob.wait_for(again["id"], ["succeeded"])
