"""`neuro-platform admin ...` as an administrator types it.

The commands run in the test's process (`testing/cli_in_process.py`); the entry point an
operator's shell starts, `python -m neuro_platform`, has a test of its own below (real
processes: their exit codes and messages, and that a command imports no more than it needs).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jwt

from neuro_platform.testing.cli_in_process import run_cli


def admin(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(["admin", "--data-dir", str(data_dir), *args])


def admin_process(
    data_dir: Path, *args: str, python: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    command = ["-m", "neuro_platform", "admin", "--data-dir", str(data_dir), *args]
    return subprocess.run(
        [sys.executable, *python, *command],
        capture_output=True,
        text=True,
        check=False,
    )


def test_user_add_list_remove_and_token(tmp_path: Path) -> None:
    added = admin(tmp_path, "user", "add", "carol", "--password", "carol-password")
    assert added.returncode == 0, added.stderr
    assert admin(tmp_path, "user", "add", "dave", "--password", "dave-password").returncode == 0
    assert admin(tmp_path, "user", "list").stdout.split() == ["carol", "dave"]

    issued = admin(tmp_path, "token", "issue", "carol", "--ttl-s", "60")
    claims = jwt.decode(issued.stdout.strip(), options={"verify_signature": False})
    assert claims["identity"] == claims["https://platform.neuromation.io/user"] == "carol"
    assert claims["exp"] - claims["iat"] == 60
    key_file = tmp_path / "jwt-signing-key"
    assert key_file.stat().st_mode & 0o777 == 0o600

    assert admin(tmp_path, "user", "remove", "carol").returncode == 0
    assert admin(tmp_path, "user", "list").stdout.split() == ["dave"]


def test_admin_errors_are_clear(tmp_path: Path) -> None:
    admin(tmp_path, "user", "add", "carol", "--password", "carol-password")
    duplicate = admin(tmp_path, "user", "add", "carol", "--password", "carol-password")
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr

    bad_name = admin(tmp_path, "user", "add", "Carol/x", "--password", "carol-password")
    assert bad_name.returncode == 1
    assert "invalid user name" in bad_name.stderr

    short = admin(tmp_path, "user", "add", "erin", "--password", "short")
    assert "at least 8" in short.stderr

    unknown = admin(tmp_path, "token", "issue", "nobody")
    assert unknown.returncode == 1
    assert "does not exist" in unknown.stderr
    assert admin(tmp_path, "user", "remove", "nobody").returncode == 1


def test_malformed_config_file_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server\n")
    result = run_cli(["serve", "--config", str(config)])
    assert result.returncode == 1
    assert "not valid TOML" in result.stderr


# The server's own: the web application, the job orchestrators' engine client, the object
# store's client. An admin command works on the database alone; importing these made each
# command take twice as long as it does without them.
SERVER_MODULES = ("neuro_platform.app", "aiohttp", "aiodocker", "aiobotocore")
IMPORT_TIME = "import time:"


def test_the_entry_point_runs_admin_commands_with_their_exit_codes(tmp_path: Path) -> None:
    # `-X importtime` lists every module the command imports, on stderr.
    added = admin_process(
        tmp_path,
        "user",
        "add",
        "carol",
        "--password",
        "carol-password",
        python=("-X", "importtime"),
    )
    stderr = added.stderr.splitlines()
    assert (added.returncode, added.stdout) == (0, "Added user carol\n")
    assert [line for line in stderr if not line.startswith(IMPORT_TIME)] == []
    imported = {line.split("|")[-1].strip() for line in stderr if line.startswith(IMPORT_TIME)}
    assert [m for m in SERVER_MODULES if m in imported] == []
    assert "neuro_platform.admin" in imported  # hostile: the listing is of this command's run

    duplicate = admin_process(tmp_path, "user", "add", "carol", "--password", "carol-password")
    assert duplicate.returncode == 1
    assert duplicate.stderr == "Error: user 'carol' already exists\n"
    # Usage errors (exit code 2) are click's, the same in process: test_privileged_settings.py.
