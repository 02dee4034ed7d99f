"""One server per data dir, and a data dir no other local user can read."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from neuro_platform.testing import PlatformServer, running_platform
from neuro_platform.testing.fixtures import USERS

MIB = 1024**2
SECOND_SERVE_TIMEOUT_S = 60


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PlatformServer]:
    with running_platform(tmp_path, users=USERS) as server:
        yield server


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_again(server: PlatformServer) -> subprocess.CompletedProcess[str]:
    """A second `neuro-platform serve` on the first one's data dir (on another port)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEURO_PLATFORM_")}
    argv = [sys.executable, "-m", "neuro_platform", "serve", "--config", str(server.config_file)]
    argv += ["--data-dir", str(server.data_dir), "--port", str(_free_port())]
    return subprocess.run(
        argv, capture_output=True, text=True, env=env, timeout=SECOND_SERVE_TIMEOUT_S, check=False
    )


async def test_second_server_on_the_data_dir_exits_with_one_line_and_leaves_the_first_alone(
    server: PlatformServer,
) -> None:
    token = server.issue_token("alice")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as alice:
        url = server.api_url / "disk"
        body = {"storage": 16 * MIB, "life_span": None, "name": None}
        async with alice.post(url, json=body) as response:
            assert response.status == 201, await response.text()
            disk = await response.json()
        mount_point = server.data_dir / "disks" / disk["id"] / "mnt"
        assert mount_point.is_mount()

        second = _serve_again(server)

        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert "another neuro-platform server (pid " in lines[0]
        assert f"is using the data dir {server.data_dir}" in lines[0]
        assert second.stdout == ""  # it never got as far as announcing itself
        # The first server's disks are still mounted and it still answers.
        assert mount_point.is_mount()
        async with alice.get(url / disk["id"]) as response:
            assert response.status == 200
            assert (await response.json())["status"] == "Ready"


def test_lock_is_released_when_the_server_stops(tmp_path: Path) -> None:
    with running_platform(tmp_path, users=USERS):
        pass
    # The same data dir again: the stopped server's lock is gone with its process.
    with (
        running_platform(tmp_path) as again,
        urllib.request.urlopen(str(again.api_url / "ping")) as response,
    ):
        assert response.status == 200


def test_data_dir_and_database_files_are_private(server: PlatformServer) -> None:
    data_dir = server.data_dir
    assert _mode(data_dir) == 0o700
    database = data_dir / "platform.db"
    wal_files = [Path(f"{database}{suffix}") for suffix in ("-wal", "-shm")]
    assert all(path.exists() for path in wal_files)  # the server has the database open
    for path in (database, *wal_files, data_dir / "server.lock", data_dir / "jwt-signing-key"):
        assert _mode(path) == 0o600, path


def test_an_older_installations_modes_are_narrowed_at_start(tmp_path: Path) -> None:
    with running_platform(tmp_path, users=USERS) as server:
        data_dir = server.data_dir
    database = data_dir / "platform.db"
    # As left by a version that created them with the default umask.
    os.chmod(data_dir, 0o755)
    os.chmod(database, 0o644)

    with running_platform(tmp_path):
        assert _mode(data_dir) == 0o700
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert _mode(path) == 0o600, path
