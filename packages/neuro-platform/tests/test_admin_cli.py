"""`neuro-platform admin ...` as an administrator types it (a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jwt


def admin(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuro_platform", "admin", "--data-dir", str(data_dir), *args],
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
    result = subprocess.run(
        [sys.executable, "-m", "neuro_platform", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "not valid TOML" in result.stderr
