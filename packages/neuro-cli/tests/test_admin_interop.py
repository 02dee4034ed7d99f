"""The original ``neuro-cli==22.7.1`` against our admin API (docs/protocol.md §2.7): its
``neuro admin`` quota commands and the quota rows of its ``neuro config show``."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from neuro_platform.testing import PlatformServer, running_platform
from neuro_platform.testing.original_cli import run_original

pytestmark = pytest.mark.interop

CONFIG = {"clusters": [{"name": "default", "orgs": ["NO_ORG", "acme"]}]}
USERS = {"alice": "alice-password", "bob": "bob-password"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    with running_platform(tmp_path_factory.mktemp("admin"), config=CONFIG, users=USERS) as s:
        s.admin("user", "role", "alice", "admin")
        yield s


def _log_in(server: PlatformServer, config_dir: Path, user: str) -> None:
    token = server.issue_token(user)
    login = run_original(config_dir, "config", "login-with-token", token, str(server.api_url))
    assert login.returncode == 0, login.stderr


def _rows(config_dir: Path, *args: str) -> list[list[str]]:
    result = run_original(config_dir, *args, columns=160)
    assert result.returncode == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines()]


def test_original_admin_commands_and_config_show(server: PlatformServer, tmp_path: Path) -> None:
    admin_dir, user_dir = tmp_path / "alice", tmp_path / "bob"
    _log_in(server, admin_dir, "alice")
    _log_in(server, user_dir, "bob")
    rows = _rows(user_dir, "config", "show")
    assert ["Credits", "Quota", "unlimited"] in rows
    assert ["Jobs", "Quota", "unlimited"] in rows

    rows = _rows(admin_dir, "admin", "set-user-quota", "default", "bob", "-j", "2")
    assert ["Jobs:", "2"] in rows
    rows = _rows(admin_dir, "admin", "set-user-credits", "default", "bob", "-c", "5")
    assert ["Credits:", "5.00"] in rows
    rows = _rows(admin_dir, "admin", "get-user-quota", "default", "bob")
    assert ["Jobs:", "2"] in rows

    rows = _rows(user_dir, "config", "show")
    assert ["Credits", "Quota", "5.00"] in rows
    assert ["Jobs", "Quota", "2"] in rows


def test_original_cli_user_cannot_raise_their_quota(server: PlatformServer, tmp_path: Path) -> None:
    _log_in(server, tmp_path, "bob")
    result = run_original(tmp_path, "admin", "set-user-quota", "default", "bob", "-j", "100")
    assert result.returncode != 0
    assert "admin" in result.stderr


def test_original_get_clusters_reads_our_clusters(server: PlatformServer, tmp_path: Path) -> None:
    # The original asks both the admin API and `API/clusters` (its platform-config service).
    _log_in(server, tmp_path / "alice", "alice")
    result = run_original(tmp_path / "alice", "admin", "get-clusters", columns=160)
    assert result.returncode == 0, result.stderr
    assert "default" in result.stdout
    assert "Deployed" in result.stdout
    assert "not found in platform-config" not in result.stdout
    # Only admins: bob is refused in one line, with no cluster named.
    _log_in(server, tmp_path / "bob", "bob")
    refused = run_original(tmp_path / "bob", "admin", "get-clusters", columns=160)
    assert refused.returncode != 0
    assert "cluster admin" in refused.stderr
    assert "Deployed" not in refused.stdout
