"""Job containers are hardened: privileged only when the operator allows and grants it, and
every container has no-new-privileges, a pids limit and the engine's default seccomp."""

from __future__ import annotations

import asyncio
import re
import stat
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiodocker
import pytest

from neuro_platform.orchestrator.naming import container_name
from neuro_platform.orchestrator.testing import remove_instance_containers
from neuro_platform.testing import PlatformServer, running_platform
from neuro_platform.testing.fixtures import USERS
from neuro_platform.testing.original_cli import run_original

from .client import FINISHED, JobsClient
from .conftest import busybox_job, jobs_config

PIDS_LIMIT = 32
BUSYBOX = "neuro-base/busybox:latest"
# Forks sleepers until the kernel refuses, remembering how far it got in a file; the outer
# shell then reports it with builtins only (it could not fork `cat` any more).
FORK_BOMB = (
    'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; '
    'sh -c "n=0; while [ \\$n -lt 1000 ]; do echo \\$n > /tmp/n; sleep 60 & n=\\$((n+1)); done"; '
    "read n < /tmp/n; echo reached=$n"
)


@pytest.fixture(scope="module")
def hardened_server(
    tmp_path_factory: pytest.TempPathFactory, busybox_image: str
) -> Iterator[PlatformServer]:
    """Privileged jobs allowed on the cluster and granted to alice only; a small pids limit."""
    instance = f"test-{uuid.uuid4().hex[:12]}"
    config = jobs_config(instance, pids_limit=PIDS_LIMIT)
    config["clusters"][0]["allow_privileged"] = True
    directory = tmp_path_factory.mktemp("hardened")
    try:
        with running_platform(directory, config=config, users=USERS) as server:
            server.admin("user", "grant", "privileged", "alice")
            yield server
    finally:
        remove_instance_containers(instance)


@pytest.fixture
async def alice_h(hardened_server: PlatformServer) -> AsyncIterator[JobsClient]:
    async with JobsClient(hardened_server, "alice") as client:
        yield client


@pytest.fixture
async def bob_h(hardened_server: PlatformServer) -> AsyncIterator[JobsClient]:
    async with JobsClient(hardened_server, "bob") as client:
        yield client


async def _inspect(server: PlatformServer, job_id: str) -> dict[str, Any]:
    name = container_name(server.settings().orchestrator_instance, job_id)
    async with aiodocker.Docker() as docker:
        info: dict[str, Any] = await (await docker.containers.get(name)).show()
        return info


# -- privileged --------------------------------------------------------------------------


async def test_privileged_is_refused_where_the_cluster_does_not_allow_it(
    alice: JobsClient,
) -> None:
    status, error = await alice.submit_error(busybox_job("true", privileged=True))

    assert status == 400
    assert error["error"] == "Privileged jobs are not allowed on cluster 'default'"
    assert await alice.list([("owner", "alice"), ("status", "pending")]) == []


async def test_privileged_is_refused_to_an_ungranted_user_who_cannot_share_it_himself(
    alice_h: JobsClient, bob_h: JobsClient, hardened_server: PlatformServer
) -> None:
    status, error = await bob_h.submit_error(busybox_job("true", privileged=True))
    assert status == 400
    assert "User 'bob' may not run privileged jobs on cluster 'default'" in error["error"]

    # Hostile: alice holds the grant, but may not pass it on (sharing needs manage).
    share = [{"uri": "cluster://default/privileged", "action": "write"}]
    url = hardened_server.api_url / "users" / "bob" / "permissions"
    async with alice_h.session.post(url, json=share) as response:
        assert response.status == 403
    status, _ = await bob_h.submit_error(busybox_job("true", privileged=True))
    assert status == 400


async def test_privileged_job_of_a_granted_user_asks_the_engine_for_privileged(
    alice_h: JobsClient, hardened_server: PlatformServer
) -> None:
    job = await alice_h.submit(busybox_job("sleep 300", privileged=True))
    assert job["privileged"] is True

    job = await _first_of(alice_h, job["id"], ("running", *FINISHED))
    if job["status"] == "running":
        info = await _inspect(hardened_server, job["id"])
        assert info["HostConfig"]["Privileged"] is True
        assert await alice_h.kill(job["id"]) == 204
    else:
        # This machine's own sandbox refuses the capabilities of a privileged container:
        # the engine's refusal shows that it was asked for one.
        assert "apply caps" in (job["history"]["description"] or ""), job["history"]


async def _first_of(client: JobsClient, job_id: str, statuses: tuple[str, ...]) -> dict[str, Any]:
    """Like `client.wait_for`, but a finished job is an answer too, not a failure."""
    while True:
        job = await client.get(job_id)
        if job["status"] in statuses:
            return job
        await asyncio.sleep(0.1)


async def test_revoked_grant_is_refused_again(hardened_server: PlatformServer) -> None:
    hardened_server.create_user("carol", "carol-password")
    hardened_server.admin("user", "grant", "privileged", "carol")
    out = hardened_server.admin("user", "revoke", "privileged", "carol")
    assert out.strip() == "Revoked privileged jobs of carol on cluster default"
    async with JobsClient(hardened_server, "carol") as carol:
        status, error = await carol.submit_error(busybox_job("true", privileged=True))
    assert status == 400
    assert "may not run privileged jobs" in error["error"]


@pytest.mark.interop
def test_original_cli_run_privileged_gets_a_clear_error(
    shared_server: PlatformServer, tmp_path: Path
) -> None:
    config_dir = tmp_path / "original"
    token = shared_server.issue_token("alice")
    login = run_original(
        config_dir, "config", "login-with-token", token, str(shared_server.api_url)
    )
    assert login.returncode == 0, login.stderr

    run = run_original(
        config_dir, "run", "--no-tty", "--privileged", "-s", "small", BUSYBOX, "--", "true"
    )

    assert run.returncode != 0
    assert "Privileged jobs are not allowed on cluster 'default'" in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr


# -- every container ---------------------------------------------------------------------


async def test_every_job_container_has_no_new_privileges_the_pids_limit_and_seccomp(
    alice_h: JobsClient, hardened_server: PlatformServer
) -> None:
    job = await alice_h.submit(busybox_job("sleep 300"))
    await alice_h.wait_for(job["id"], ("running",))

    host_config = (await _inspect(hardened_server, job["id"]))["HostConfig"]

    assert host_config["Privileged"] is False
    assert host_config["SecurityOpt"] == ["no-new-privileges:true"]
    assert host_config["PidsLimit"] == PIDS_LIMIT
    assert await alice_h.kill(job["id"]) == 204


async def test_fork_bomb_stops_at_the_pids_limit_and_the_node_keeps_working(
    alice_h: JobsClient, hardened_server: PlatformServer
) -> None:
    job = await alice_h.submit({**busybox_job("true"), "command": f"sh -c '{FORK_BOMB}'"})
    job = await _first_of(alice_h, job["id"], FINISHED)
    await alice_h.wait_until_collected(job["id"])
    output = (await alice_h.logs(job["id"])).decode()

    assert "NoNewPrivs:\t1" in output
    assert "Seccomp:\t2" in output  # filter mode: the engine's default profile is on
    assert "can't fork" in output
    reached = re.search(r"reached=(\d+)", output)
    assert reached is not None, output
    assert 0 < int(reached.group(1)) < PIDS_LIMIT

    # The sleepers went with their container, and the node still starts jobs.
    after = await alice_h.submit(busybox_job("echo still-alive"))
    after = await _first_of(alice_h, after["id"], FINISHED)
    assert after["status"] == "succeeded", after["history"]

    archive = hardened_server.data_dir / "job-logs" / f"{job['id']}.log"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
