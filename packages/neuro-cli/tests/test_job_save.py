"""`neuro job save` (ours and the original 22.7.1's) against our server, registry and dockerd."""

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from click.testing import Result

from neuro_platform.testing.original_cli import run_original as original
from neuro_platform.testing.server import PlatformServer, running_jobs_platform

# Its jobs run on dockerd, and `job save` commits them there.
pytestmark = pytest.mark.docker

BUSYBOX = "neuro-base/busybox:latest"
Neuro = Callable[..., Result]
JOB_ID = re.compile(r"job-[0-9a-f-]{36}")
WRITE_THEN_SLEEP = ["sh", "-c", "echo saved > /saved.txt; sleep 600"]


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    directory = tmp_path_factory.mktemp("server")
    users = {"alice": "alice-password", "bob": "bob-password"}
    with running_jobs_platform(directory, "cli-save-tests", users=users) as server:
        yield server


@pytest.fixture
def neuro_alice(
    jobs_server: PlatformServer, neuro: Neuro, log_in: Callable[[PlatformServer], str]
) -> Neuro:
    log_in(jobs_server)
    return neuro


def start_writer(neuro: Neuro, server: PlatformServer) -> str:
    """A running job that has written /saved.txt (an exec of `test -f` says so)."""
    run = neuro("run", "--detach", BUSYBOX, *WRITE_THEN_SLEEP)
    assert run.exit_code == 0, run.output
    job_id = JOB_ID.search(run.stdout)
    assert job_id is not None, run.output
    # No deadline of our own: the per-test timeout stops a job that never writes it.
    while asyncio.run(_exec_exit_code(server, job_id.group(), "test -f /saved.txt")) != 0:
        pass
    return job_id.group()


async def _exec_exit_code(server: PlatformServer, job_id: str, command: str) -> int | None:
    """Exec through the monitoring websocket (the CLI's exec needs a real terminal's fds)."""
    url = server.api_url / "jobs" / job_id / "exec"
    headers = {"Authorization": f"Bearer {server.issue_token('alice')}"}
    exit_code = None
    async with aiohttp.ClientSession(headers=headers) as session:
        try:
            ws = await session.ws_connect(
                url, params={"cmd": command}, protocols=["v2.channels.neu.ro"]
            )
        except aiohttp.WSServerHandshakeError as e:
            if e.status == 404:  # not running yet
                return None
            raise
        async with ws:
            async for message in ws:
                if message.type is aiohttp.WSMsgType.BINARY and message.data[:1] == b"\x03":
                    exit_code = json.loads(message.data[1:]).get("exit_code")
    return exit_code


@pytest.mark.registry
def test_our_cli_saves_a_job_and_a_new_job_sees_its_file(
    jobs_server: PlatformServer, neuro_alice: Neuro
) -> None:
    job_id = start_writer(neuro_alice, jobs_server)

    saved = neuro_alice("job", "save", job_id, "image:snapshot:v1")

    assert saved.exit_code == 0, saved.output
    assert saved.stdout.strip().splitlines()[-1] == "image://default/alice/snapshot:v1"
    rerun = neuro_alice("run", "image:snapshot:v1", "cat", "/saved.txt")
    assert rerun.exit_code == 0, rerun.output
    assert "saved\n" in rerun.stdout
    neuro_alice("kill", job_id)


def test_our_cli_refuses_foreign_namespaces_and_registries_in_one_line(
    jobs_server: PlatformServer, neuro_alice: Neuro
) -> None:
    job_id = start_writer(neuro_alice, jobs_server)

    into_bob = neuro_alice("job", "save", job_id, "image:/bob/planted:v1")
    elsewhere = neuro_alice("save", job_id, "ubuntu:latest")

    for result in (into_bob, elsewhere):
        assert result.exit_code != 0
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "image://default/bob/planted" in into_bob.stderr
    assert "registry" in elsewhere.stderr
    neuro_alice("kill", job_id)


@pytest.mark.registry
def test_original_cli_saves_a_job_and_a_new_job_sees_its_file(
    jobs_server: PlatformServer, neuro_alice: Neuro, tmp_path: Path
) -> None:
    config_dir = tmp_path / "original"
    token = jobs_server.issue_token("alice")
    login = original(config_dir, "config", "login-with-token", token, str(jobs_server.api_url))
    assert login.returncode == 0, login.stderr
    job_id = start_writer(neuro_alice, jobs_server)

    saved = original(config_dir, "job", "save", job_id, "image:original-snapshot:v1")

    assert saved.returncode == 0, saved.stdout + saved.stderr
    assert "image://default/alice/original-snapshot:v1" in saved.stdout
    rerun = neuro_alice("run", "image:original-snapshot:v1", "cat", "/saved.txt")
    assert rerun.exit_code == 0, rerun.output
    assert "saved\n" in rerun.stdout

    refused = original(config_dir, "job", "save", job_id, "image:/bob/planted:v1")
    assert refused.returncode != 0
    neuro_alice("kill", job_id)
