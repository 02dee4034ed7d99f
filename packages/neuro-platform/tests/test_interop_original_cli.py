"""The original published client (neuro-cli 22.7.1) logs in to our server and reads /config."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.original_cli import run_original as original_neuro

pytestmark = pytest.mark.interop


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
