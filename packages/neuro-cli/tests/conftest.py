import os
import runpy
import stat
import sys
import webbrowser
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner, Result

from neuro_cli.main import cli
from neuro_platform.testing.fixtures import (  # noqa: F401 (fixtures)
    buckets_platform_server,
    jobs_platform_server,
    platform_server,
    shared_platform_server,
)
from neuro_platform.testing.server import PlatformServer, running_platform

TESTS_DIR = Path(__file__).parent
# The users the shared platform_server fixture creates (the lead's testing contract).
USERS = {"alice": "alice-password", "bob": "bob-password"}
CONSOLE_WIDTH = 120

# Two clusters, orgs on the first: what switch-cluster / switch-org need.
TWO_CLUSTERS_CONFIG: dict[str, Any] = {
    "clusters": [
        {
            "name": "default",
            "orgs": ["NO_ORG", "acme"],  # TOML has no null: NO_ORG is "no org"
            "presets": [
                {
                    "name": "cpu-small",
                    "cpu": 1,
                    "memory": 2 * 2**30,
                    "scheduler_enabled": False,
                    "preemptible_node": False,
                    "credits_per_hour": "0",
                },
            ],
        },
        {
            "name": "gpu-cluster",
            "orgs": ["NO_ORG"],
            "presets": [
                {
                    "name": "gpu-large",
                    "cpu": 8,
                    "memory": 64 * 2**30,
                    "gpu": 2,
                    "gpu_model": "nvidia-a100",
                    "scheduler_enabled": True,
                    "preemptible_node": True,
                    "credits_per_hour": "10",
                },
            ],
        },
    ]
}

# Test modules cannot import each other under --import-mode=importlib: what they share
# comes as fixtures.
_sign_in_module = runpy.run_path(str(TESTS_DIR / "sign_in_browser.py"))
SignIn = Callable[[str, str, str], str]
ReadCode = Callable[[str], str]
LogIn = Callable[..., str]


@dataclass(frozen=True)
class NeuroRunner:
    """Runs ``neuro`` in-process (click's CliRunner) with its own config directory."""

    config_dir: Path

    def __call__(self, *args: str, input: str | None = None) -> Result:
        # A fixed width so that tables render the same everywhere.
        runner = CliRunner(env={"COLUMNS": str(CONSOLE_WIDTH)})
        return runner.invoke(
            cli, ["--neuromation-config", str(self.config_dir), *args], input=input
        )


@pytest.fixture(autouse=True)
def no_browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Never start a real browser from a test: a command that does not exist is "no
    # browser" to Python's webbrowser module.
    monkeypatch.setenv("BROWSER", str(tmp_path / "no-such-browser"))
    # webbrowser reads $BROWSER once per process, at its first use: forget what an earlier
    # in-process command found, so that this test's $BROWSER is the one that counts.
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "neuro-config"


@pytest.fixture
def neuro(config_dir: Path) -> NeuroRunner:
    return NeuroRunner(config_dir)


@pytest.fixture
def log_in(neuro: NeuroRunner) -> LogIn:
    """Log the CLI into ``server`` with a token issued for ``user``; returns the token."""

    def log_in(server: PlatformServer, user: str = "alice") -> str:
        token = server.issue_token(user)
        result = neuro("config", "login-with-token", token, str(server.api_url))
        assert result.exit_code == 0, result.output
        return token

    return log_in


@pytest.fixture
def sign_in() -> SignIn:
    """``sign_in(authorize_url, user, password)``: submit the real login form over HTTP."""
    return cast(SignIn, _sign_in_module["sign_in"])


@pytest.fixture
def read_code() -> ReadCode:
    """The authorization code shown on the headless flow's page."""
    return cast(ReadCode, _sign_in_module["read_code"])


@pytest.fixture(scope="module")
def two_cluster_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    """Shared by a module's tests: the CLI keeps its state in each test's own config dir."""
    server_dir = tmp_path_factory.mktemp("server")
    with running_platform(server_dir, config=TWO_CLUSTERS_CONFIG) as server:
        for name, password in USERS.items():
            server.create_user(name, password)
        yield server


@pytest.fixture
def neuro_executable() -> Path:
    """The installed ``neuro`` console script of this environment."""
    return Path(sys.executable).with_name("neuro")


@pytest.fixture
def subprocess_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEURO", "BROWSER"))}
    env["COLUMNS"] = str(CONSOLE_WIDTH)
    env["BROWSER"] = str(tmp_path / "no-such-browser")
    return env


@pytest.fixture
def sign_in_browser(tmp_path: Path) -> Path:
    """An executable for $BROWSER that signs in as alice over HTTP (see sign_in_browser.py)."""
    script = tmp_path / "sign-in-browser"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, runpy\n"
        "os.environ.setdefault('SIGN_IN_USER', 'alice')\n"
        f"os.environ.setdefault('SIGN_IN_PASSWORD', {USERS['alice']!r})\n"
        f"runpy.run_path({str(TESTS_DIR / 'sign_in_browser.py')!r}, run_name='__main__')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script
