"""Our real `neuro` CLI, inside a job started with `pass_config`, logs in from the passed
config and works against the server: the whole path a user's job takes, not only its HTTP."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from yarl import URL

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.cli_image import build_cli_image
from neuro_platform.testing.fixtures import USERS
from neuro_platform.testing.server import running_jobs_platform

from .client import JobsClient

MIB = 1024**2
CONFIG = {
    "jobs": {"poll_interval_s": 0.2},
    "node": {"cpu": 4.0, "memory": 2048 * MIB, "gpu": 0},
    "clusters": [
        {
            "name": "default",
            "presets": [
                # Python with aiohttp and rich imported needs more than a busybox job.
                {"name": "cli", "cpu": 1.0, "memory": 512 * MIB},
                {"name": "tiny", "cpu": 0.1, "memory": 32 * MIB},
            ],
        }
    ],
}
# Each command's output, then a line with its exit status.
COMMANDS = """
neuro ps; echo "exit: $?"
neuro config show; echo "exit: $?"
neuro status "$OTHER_JOB"; echo "exit: $?"
"""


def results(output: str) -> list[tuple[str, int]]:
    """(output, exit status) of each of COMMANDS."""
    found: list[tuple[str, int]] = []
    lines: list[str] = []
    for line in output.splitlines():
        if line.startswith("exit: "):
            found.append(("\n".join(lines), int(line.removeprefix("exit: "))))
            lines = []
        else:
            lines.append(line)
    return found


@pytest.fixture(scope="module")
def cli_image() -> str:
    return build_cli_image()


@pytest.fixture
def server(tmp_path: Path, cli_image: str) -> Iterator[PlatformServer]:
    instance = f"test-{uuid.uuid4().hex[:12]}"
    with running_jobs_platform(tmp_path, instance, config=CONFIG, users=USERS) as server:
        yield server


@pytest.fixture
async def alice(server: PlatformServer) -> AsyncIterator[JobsClient]:
    async with JobsClient(server, "alice") as client:
        yield client


@pytest.fixture
async def bob(server: PlatformServer) -> AsyncIterator[JobsClient]:
    async with JobsClient(server, "bob") as client:
        yield client


async def test_neuro_ps_inside_a_job_lists_the_job_itself(
    cli_image: str, alice: JobsClient, bob: JobsClient
) -> None:
    other = await bob.submit({"image": cli_image, "command": "sleep 600", "preset_name": "tiny"})
    job = await alice.submit(
        {
            "image": cli_image,
            "command": "sh -c 'eval \"$COMMANDS\"'",
            "preset_name": "cli",
            "pass_config": True,
            "env": {"COMMANDS": COMMANDS, "OTHER_JOB": other["id"], "COLUMNS": "200"},
        }
    )

    output = (await alice.logs(job["id"])).decode()

    [(ps, ps_exit), (config, config_exit), (status, status_exit)] = results(output)
    assert ps_exit == 0, ps
    assert job["id"] in ps
    assert other["id"] not in ps  # bob's
    assert config_exit == 0, config
    [api_line] = [line for line in config.splitlines() if "API URL" in line]
    api_url = URL(api_line.split()[-1])
    assert api_url.host not in ("127.0.0.1", "localhost")  # where the job logged in
    assert api_url.path == "/api/v1"
    assert "alice" in config
    # The job's token is alice's and no more: bob's job is hidden from it as from her.
    assert status_exit == 1
    assert status.startswith("ERROR: ")
    assert (await alice.wait_for(job["id"], ["succeeded"]))["status"] == "succeeded"
    await bob.kill(other["id"])
