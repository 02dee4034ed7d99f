"""The original published client (neuro-cli 22.7.1) logs in to our server and reads /config."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from neuro_platform.testing import PlatformServer

REPO_ROOT = Path(__file__).resolve().parents[3]
ORIGINAL_NEURO = REPO_ROOT / ".cache" / "interop-venv" / "bin" / "neuro"

pytestmark = pytest.mark.interop


def original_neuro(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not ORIGINAL_NEURO.exists():
        pytest.fail(f"{ORIGINAL_NEURO} is missing: run scripts/setup-interop-venv.sh")
    env = {
        **os.environ,
        "NEUROMATION_CONFIG": str(config_dir),
        "NEURO_CLI_DISABLE_PYPI_VERSION_CHECK": "1",
    }
    return subprocess.run(
        [str(ORIGINAL_NEURO), "--skip-stats", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_original_cli_logs_in_with_token_and_lists_presets(
    platform_server: PlatformServer, tmp_path: Path
) -> None:
    config_dir = tmp_path / "neuro-config"
    token = platform_server.issue_token("alice")
    login = original_neuro(
        config_dir, "config", "login-with-token", token, str(platform_server.api_url)
    )
    assert login.returncode == 0, login.stderr
    assert "as alice, current cluster is default" in login.stdout

    clusters = original_neuro(config_dir, "config", "get-clusters")
    assert clusters.returncode == 0, clusters.stderr
    for preset in ("cpu-small", "cpu-medium", "cpu-large"):
        assert preset in clusters.stdout
