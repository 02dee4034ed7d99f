"""Drive the original published client, ``neuro-cli==22.7.1``, against our server.

It lives in a virtual environment of its own (its ``neuro_sdk`` shares our import name),
made by ``scripts/setup-interop-venv.sh``, which ``make test`` runs. A missing venv is
therefore a broken setup: the helpers fail the test rather than skip it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[5]
ORIGINAL_NEURO: Path = REPO_ROOT / ".cache" / "interop-venv" / "bin" / "neuro"


def original_env(config_dir: Path, *, columns: int = 200) -> dict[str, str]:
    """Our environment minus NEURO*: no PyPI look-ups, its own config dir, a fixed width."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEURO")}
    env |= {
        "NEURO_CLI_DISABLE_PYPI_VERSION_CHECK": "1",
        "NEUROMATION_CONFIG": str(config_dir),
        "COLUMNS": str(columns),
    }
    return env


def original_argv(*args: str) -> list[str]:
    """The command line for ``neuro --skip-stats *args``; fails the test if the venv is missing."""
    if not ORIGINAL_NEURO.exists():
        pytest.fail(
            f"{ORIGINAL_NEURO} is missing: run scripts/setup-interop-venv.sh (make test does)"
        )
    return [str(ORIGINAL_NEURO), "--skip-stats", *args]


def run_original(
    config_dir: Path,
    *args: str,
    columns: int = 200,
    timeout: float = 90,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the original client to completion with its output captured as text; never raises on
    a non-zero exit status."""
    return subprocess.run(
        original_argv(*args),
        env=original_env(config_dir, columns=columns),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
