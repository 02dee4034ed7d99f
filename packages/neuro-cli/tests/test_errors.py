"""How failures look: one ``ERROR:`` line, a non-zero exit, a traceback only with -v."""

from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from click.testing import Result

from neuro_platform.testing.server import PlatformServer

Neuro = Callable[..., Result]
LogIn = Callable[..., str]


@pytest.fixture
def platform_server(shared_platform_server: PlatformServer) -> PlatformServer:
    """These tests only log in, or fail to: one server will do."""
    return shared_platform_server


def forged_token(user: str) -> str:
    # Well-formed and naming a real user, but not signed by the server's key.
    return jwt.encode(
        {"identity": user, "https://platform.neuromation.io/user": user, "sub": user},
        "not-the-server-key-but-long-enough-for-hs256",
        algorithm="HS256",
    )


def test_bad_token_is_one_line_error(
    neuro: Neuro, platform_server: PlatformServer, config_dir: Path
) -> None:
    result = neuro(
        "config", "login-with-token", forged_token("alice"), str(platform_server.api_url)
    )

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "ERROR: Cannot authorize user\n"
    assert not (config_dir / "db").exists()


def test_verbose_shows_the_traceback(neuro: Neuro, platform_server: PlatformServer) -> None:
    result = neuro(
        "-v", "config", "login-with-token", forged_token("alice"), str(platform_server.api_url)
    )

    assert result.exit_code == 1
    assert "Traceback (most recent call last):" in result.stderr
    assert "AuthError" in result.stderr
    assert result.stderr.endswith("ERROR: Cannot authorize user\n")


def test_not_logged_in_is_one_line_error(neuro: Neuro) -> None:
    for command in (["config", "show"], ["config", "show-token"], ["config", "get-clusters"]):
        result = neuro(*command)

        assert result.exit_code == 1, command
        assert result.stderr == "ERROR: You are not logged in; run 'neuro login' first\n"


def test_unreachable_server_is_one_line_error(neuro: Neuro) -> None:
    # Port 9 (discard) on loopback: nothing listens there on these machines.
    result = neuro(
        "config", "login-with-token", forged_token("nobody"), "http://127.0.0.1:9/api/v1"
    )

    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("ERROR: Cannot connect to the Neuro Platform: ")


def test_usage_error_exits_2_with_one_line(neuro: Neuro) -> None:
    result = neuro("config", "no-such-command")

    assert result.exit_code == 2
    assert result.stderr == (
        "ERROR: No such command 'no-such-command'. (see 'neuro config --help')\n"
    )


def test_bad_url_is_a_usage_error(neuro: Neuro) -> None:
    result = neuro("config", "login-with-token", forged_token("nobody"), "ftp://example.com")

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "is not an http(s) URL with a host" in result.stderr


def test_failure_is_logged_with_traceback_in_the_config_dir(
    neuro: Neuro, log_in: LogIn, platform_server: PlatformServer, config_dir: Path
) -> None:
    log_in(platform_server)

    result = neuro("config", "switch-org", "no-such-org")

    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    (log_file,) = (config_dir / "logs").glob("neuro-run-*.txt")
    text = log_file.read_text()
    assert f"Command failed: neuro config, config {config_dir}" in text
    assert "Traceback (most recent call last):" in text


def test_a_run_that_logs_nothing_leaves_no_log_file(
    neuro: Neuro, log_in: LogIn, platform_server: PlatformServer, config_dir: Path
) -> None:
    # Nor makes the folder or lists the old files: a cost of every command's start.
    log_in(platform_server)
    assert neuro("ls", "storage:").exit_code == 0
    assert neuro("config", "show").exit_code == 0
    assert not (config_dir / "logs").exists()


def test_version_and_compatibility_flags(neuro: Neuro) -> None:
    result = neuro("--skip-stats", "--disable-pypi-version-check", "--version")

    assert result.exit_code == 0
    assert result.stdout.startswith("Neuro Platform Client ")
