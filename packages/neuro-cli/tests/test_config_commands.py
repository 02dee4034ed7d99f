"""``neuro config ...`` run in-process (click's CliRunner) against our real server."""

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from neuro_cli.root import Root
from neuro_platform.testing.server import PlatformServer

Neuro = Callable[..., Result]
LogIn = Callable[..., str]


@pytest.fixture
def platform_server(shared_platform_server: PlatformServer) -> PlatformServer:
    """These tests keep their state in their own config dirs and only log in: one server will do."""
    return shared_platform_server


def test_login_with_token_then_show(
    neuro: Neuro, log_in: LogIn, platform_server: PlatformServer
) -> None:
    token = platform_server.issue_token("alice")
    login = neuro("config", "login-with-token", token, str(platform_server.api_url))
    assert login.exit_code == 0, login.output
    assert f"Logged into {platform_server.api_url} as alice" in login.stdout

    show = neuro("config", "show")
    assert show.exit_code == 0, show.output
    lines = show.stdout.splitlines()
    assert lines[0].strip() == "User Configuration:"
    assert ["User", "Name", "alice"] in [line.split() for line in lines]
    assert ["Current", "Cluster", "default"] in [line.split() for line in lines]
    assert ["API", "URL", str(platform_server.api_url)] in [line.split() for line in lines]
    assert "Docker Registry URL" in show.stdout
    presets_header = next(line.split() for line in lines if line.strip().startswith("Name"))
    assert presets_header == ["Name", "#CPU", "Memory", "Preemptible", "GPU"]
    # The default cluster's presets are sized from the machine; their names are fixed.
    assert "cpu-small" in show.stdout


def test_show_lists_configured_presets(
    neuro: Neuro, log_in: LogIn, two_cluster_server: PlatformServer
) -> None:
    log_in(two_cluster_server)
    assert neuro("config", "switch-cluster", "gpu-cluster").exit_code == 0

    show = neuro("config", "show")

    assert show.exit_code == 0, show.output
    rows = [line.split() for line in show.stdout.splitlines()]
    assert ["gpu-large", "8", "64", "GiB", "yes", "2", "x", "nvidia-a100"] in rows


def test_show_token_prints_the_token_on_one_line(
    neuro: Neuro, log_in: LogIn, platform_server: PlatformServer
) -> None:
    token = log_in(platform_server)

    result = neuro("config", "show-token")

    assert result.exit_code == 0, result.output
    assert result.stdout == token + "\n"


def test_switch_cluster(neuro: Neuro, log_in: LogIn, two_cluster_server: PlatformServer) -> None:
    log_in(two_cluster_server)

    switched = neuro("config", "switch-cluster", "gpu-cluster")

    assert switched.exit_code == 0, switched.output
    assert switched.stdout == "The current cluster is gpu-cluster\n"
    show = neuro("config", "show")
    assert ["Current", "Cluster", "gpu-cluster"] in [
        line.split() for line in show.stdout.splitlines()
    ]
    assert "gpu-large" in show.stdout
    assert "cpu-small" not in show.stdout


def test_switch_cluster_to_unknown_cluster_is_one_line_error(
    neuro: Neuro, log_in: LogIn, two_cluster_server: PlatformServer
) -> None:
    log_in(two_cluster_server)

    result = neuro("config", "switch-cluster", "no-such-cluster")

    assert result.exit_code == 1
    assert result.stderr == (
        "ERROR: Cluster 'no-such-cluster' is not available; choose one of: default, gpu-cluster\n"
    )
    show = neuro("config", "show")
    assert ["Current", "Cluster", "default"] in [line.split() for line in show.stdout.splitlines()]


def test_switch_cluster_without_a_name_needs_a_terminal(
    neuro: Neuro, log_in: LogIn, two_cluster_server: PlatformServer
) -> None:
    log_in(two_cluster_server)

    result = neuro("config", "switch-cluster")

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("ERROR: Interactive mode is disabled for non-TTY mode")


def test_switch_cluster_asks_on_a_terminal(
    neuro: Neuro,
    log_in: LogIn,
    two_cluster_server: PlatformServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log_in(two_cluster_server)
    # CliRunner's stdin is never a terminal; pretend it is to reach the prompt.
    monkeypatch.setattr(Root, "stdin_is_tty", property(lambda self: True))

    result = neuro("config", "switch-cluster", input="typo\ngpu-cluster\n")

    assert result.exit_code == 0, result.output
    assert "* Name: default" in result.stdout
    assert "Select cluster to switch [default]: " in result.stdout
    assert "Cluster 'typo' doesn't exist, please try again." in result.stdout
    assert result.stdout.endswith("The current cluster is gpu-cluster\n")


def test_switch_org(neuro: Neuro, log_in: LogIn, two_cluster_server: PlatformServer) -> None:
    log_in(two_cluster_server)

    to_acme = neuro("config", "switch-org", "acme")
    show_acme = neuro("config", "show")
    to_no_org = neuro("config", "switch-org", "NO_ORG")
    show_no_org = neuro("config", "show")

    assert to_acme.stdout == "The current org is acme\n"
    assert ["Current", "Org", "acme"] in [line.split() for line in show_acme.stdout.splitlines()]
    assert to_no_org.stdout == "The current org is <no-org>\n"
    assert ["Current", "Org", "<no-org>"] in [
        line.split() for line in show_no_org.stdout.splitlines()
    ]


def test_switch_org_to_unknown_org_is_one_line_error(
    neuro: Neuro, log_in: LogIn, two_cluster_server: PlatformServer
) -> None:
    log_in(two_cluster_server)

    result = neuro("config", "switch-org", "evil-corp")

    assert result.exit_code == 1
    assert result.stderr == (
        "ERROR: Org 'evil-corp' is not available on cluster 'default'; "
        "choose one of: NO_ORG, acme\n"
    )


def test_get_clusters_lists_clusters_with_orgs_and_presets(
    neuro: Neuro, log_in: LogIn, two_cluster_server: PlatformServer
) -> None:
    log_in(two_cluster_server)

    result = neuro("config", "get-clusters")

    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[0] == "Available clusters:"
    default_at = lines.index("* Name: default")
    gpu_at = lines.index("  Name: gpu-cluster")
    assert default_at < gpu_at
    assert lines[default_at + 1] == "  Orgs: <no-org>, acme"
    assert lines[gpu_at + 1] == "  Orgs: <no-org>"
    assert "cpu-small" in "\n".join(lines[default_at:gpu_at])
    assert "gpu-large" in "\n".join(lines[gpu_at:])


def test_logout_forgets_the_login(
    neuro: Neuro, log_in: LogIn, platform_server: PlatformServer, config_dir: Path
) -> None:
    log_in(platform_server)
    assert (config_dir / "db").exists()

    logout = neuro("logout")
    show = neuro("config", "show")

    assert logout.exit_code == 0
    assert logout.stdout == "Logged out\n"
    assert not (config_dir / "db").exists()
    assert show.exit_code == 1
    assert show.stderr == "ERROR: You are not logged in; run 'neuro login' first\n"


def test_config_logout_is_the_same_command(
    neuro: Neuro, log_in: LogIn, platform_server: PlatformServer, config_dir: Path
) -> None:
    log_in(platform_server)

    assert neuro("config", "logout").exit_code == 0
    assert not (config_dir / "db").exists()


def test_login_replaces_a_previous_login(
    neuro: Neuro, log_in: LogIn, platform_server: PlatformServer
) -> None:
    log_in(platform_server, "bob")
    token = platform_server.issue_token("alice")

    result = neuro("config", "login-with-token", token, str(platform_server.api_url))

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("You were successfully logged out.\n")
    show = neuro("config", "show")
    assert ["User", "Name", "alice"] in [line.split() for line in show.stdout.splitlines()]


def test_quiet_silences_messages_but_not_data(
    neuro: Neuro, log_in: LogIn, two_cluster_server: PlatformServer
) -> None:
    token = log_in(two_cluster_server)

    switched = neuro("-q", "config", "switch-cluster", "gpu-cluster")
    shown = neuro("-q", "config", "show-token")

    assert switched.exit_code == 0
    assert switched.stdout == ""
    assert shown.stdout == token + "\n"


@pytest.mark.parametrize(("color", "has_escapes"), [("yes", True), ("no", False)])
def test_color_option(
    neuro: Neuro,
    log_in: LogIn,
    platform_server: PlatformServer,
    color: str,
    has_escapes: bool,
) -> None:
    log_in(platform_server)

    result = neuro("--color", color, "config", "show")

    assert result.exit_code == 0, result.output
    assert ("\x1b[" in result.stdout) is has_escapes
