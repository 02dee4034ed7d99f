"""The original published client, ``neuro-cli==22.7.1``, against our server.

It lives in a virtual environment of its own (its ``neuro_sdk`` shares our import name),
made by ``scripts/setup-interop-venv.sh``.
"""

from pathlib import Path

import pytest

from neuro_platform.testing.original_cli import run_original
from neuro_platform.testing.server import PlatformServer

pytestmark = pytest.mark.interop


def test_original_cli_logs_in_with_token(platform_server: PlatformServer, config_dir: Path) -> None:
    token = platform_server.issue_token("alice")

    login = run_original(
        config_dir, "config", "login-with-token", token, str(platform_server.api_url), columns=160
    )

    assert login.returncode == 0, login.stderr
    assert (
        f"Logged into {platform_server.api_url} as alice, current cluster is default"
        in login.stdout
    )


def test_original_cli_shows_our_config(platform_server: PlatformServer, config_dir: Path) -> None:
    token = platform_server.issue_token("alice")
    login = run_original(
        config_dir, "config", "login-with-token", token, str(platform_server.api_url), columns=160
    )
    assert login.returncode == 0, login.stderr

    # Besides /config, the original's "config show" calls GET /api/v1/jobs/capacity.
    show = run_original(config_dir, "config", "show", columns=160)

    assert show.returncode == 0, show.stderr
    rows = [line.split() for line in show.stdout.splitlines()]
    assert ["User", "Name", "alice"] in rows
    assert ["Current", "Cluster", "default"] in rows
    assert ["API", "URL", str(platform_server.api_url)] in rows
    assert "Resource Presets" in show.stdout
    preset_names = {row[0] for row in rows if row and row[0].startswith(("cpu-", "gpu-"))}
    # The default cluster's presets are sized from the machine; these three are always there.
    assert {"cpu-small", "cpu-medium", "cpu-large"} <= preset_names
    # The column the original adds when the capacity endpoint answered.
    assert "Jobs Avail" in show.stdout
