"""The operator's side of privileged jobs and of the pids limit: settings and admin commands."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from neuro_platform.settings import DEFAULT_PIDS_LIMIT, SettingsError, load_settings
from neuro_platform.testing.cli_in_process import run_cli


def _settings_from(tmp_path: Path, text: str) -> object:
    config = tmp_path / "config.toml"
    config.write_text(text)
    return load_settings(config, env={})


def test_privileged_is_off_and_pids_are_limited_by_default(tmp_path: Path) -> None:
    settings = load_settings(None, env={"HOME": str(tmp_path)})

    assert [c.allow_privileged for c in settings.clusters] == [False]
    assert settings.jobs.pids_limit == DEFAULT_PIDS_LIMIT


def test_operator_allows_privileged_per_cluster_and_sets_the_pids_limit(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[jobs]\npids_limit = 256\n"
        "[[clusters]]\nname = 'a'\nallow_privileged = true\n[[clusters]]\nname = 'b'\n"
    )
    settings = load_settings(config, env={})

    assert [(c.name, c.allow_privileged) for c in settings.clusters] == [("a", True), ("b", False)]
    assert settings.jobs.pids_limit == 256


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[clusters]]\nname = 'a'\nallow_privileged = 'yes'", "allow_privileged must be true"),
        ("[jobs]\npids_limit = 0", "pids_limit is out of range"),
        ("[jobs]\npids_limit = -1", "pids_limit is out of range"),
        ("[jobs]\npids_limit = 'unlimited'", "pids_limit must be an integer"),
    ],
)
def test_malformed_hardening_settings_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        _settings_from(tmp_path, text)


def _admin(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    if not config.exists():
        config.write_text(
            "[[clusters]]\nname = 'open'\nallow_privileged = true\n[[clusters]]\nname = 'closed'\n"
        )
    return run_cli(["admin", "--config", str(config), "--data-dir", str(tmp_path / "data"), *args])


def test_admin_grants_and_revokes_privileged_per_cluster(tmp_path: Path) -> None:
    assert _admin(tmp_path, "user", "add", "carol", "--password", "carol-password").returncode == 0

    granted = _admin(tmp_path, "user", "grant", "privileged", "carol")
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout.splitlines() == [
        "Granted carol privileged jobs on cluster open",
        "Granted carol privileged jobs on cluster closed (the cluster does not allow them)",
    ]

    revoked = _admin(tmp_path, "user", "revoke", "privileged", "carol", "--cluster", "open")
    assert revoked.stdout.splitlines() == ["Revoked privileged jobs of carol on cluster open"]
    again = _admin(tmp_path, "user", "revoke", "privileged", "carol", "--cluster", "open")
    assert again.stdout.splitlines() == ["carol had no privileged grant on cluster open"]


def test_admin_privileged_errors_are_one_clear_line(tmp_path: Path) -> None:
    nobody = _admin(tmp_path, "user", "grant", "privileged", "nobody")
    assert nobody.returncode == 1
    assert nobody.stderr.strip() == "Error: user 'nobody' does not exist"

    unknown = _admin(tmp_path, "user", "grant", "privileged", "nobody", "--cluster", "nope")
    assert unknown.returncode == 2
    assert "no cluster 'nope' is configured" in unknown.stderr
