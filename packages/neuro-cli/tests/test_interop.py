"""The original published client, ``neuro-cli==22.7.1``, against our server.

It lives in a virtual environment of its own (its ``neuro_sdk`` shares our import name),
made by ``scripts/setup-interop-venv.sh``.
"""

import os
import subprocess
from pathlib import Path

import pytest

from neuro_platform.testing.server import PlatformServer

REPO_ROOT = Path(__file__).resolve().parents[3]
ORIGINAL_NEURO = REPO_ROOT / ".cache" / "interop-venv" / "bin" / "neuro"

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        not ORIGINAL_NEURO.exists(),
        reason=f"{ORIGINAL_NEURO} is missing; scripts/setup-interop-venv.sh makes it",
    ),
]


def run_original(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEURO")}
    # No analytics, no PyPI look-ups, a config dir of its own, a wide fixed console.
    env |= {
        "NEURO_CLI_DISABLE_PYPI_VERSION_CHECK": "1",
        "NEUROMATION_CONFIG": str(config_dir),
        "COLUMNS": "160",
    }
    return subprocess.run(
        [str(ORIGINAL_NEURO), "--skip-stats", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_original_cli_logs_in_with_token(platform_server: PlatformServer, config_dir: Path) -> None:
    token = platform_server.issue_token("alice")

    login = run_original(
        config_dir, "config", "login-with-token", token, str(platform_server.api_url)
    )

    assert login.returncode == 0, login.stderr
    assert (
        f"Logged into {platform_server.api_url} as alice, current cluster is default"
        in login.stdout
    )


def test_original_cli_shows_our_config(platform_server: PlatformServer, config_dir: Path) -> None:
    token = platform_server.issue_token("alice")
    login = run_original(
        config_dir, "config", "login-with-token", token, str(platform_server.api_url)
    )
    assert login.returncode == 0, login.stderr

    # Besides /config, the original's "config show" calls GET /api/v1/jobs/capacity.
    show = run_original(config_dir, "config", "show")

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
