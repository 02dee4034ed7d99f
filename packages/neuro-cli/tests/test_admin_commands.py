"""``neuro admin ...`` and the quota rows of ``neuro config show``, run in-process against our
real server (docs/protocol.md §2.7). alice is the cluster admin, bob a plain user."""

from collections.abc import Callable, Iterator

import pytest
from click.testing import Result

from neuro_platform.testing import PlatformServer, running_platform

Neuro = Callable[..., Result]
LogIn = Callable[..., str]
CONFIG = {"clusters": [{"name": "default", "orgs": ["NO_ORG", "acme"]}]}
USERS = {"alice": "alice-password", "bob": "bob-password"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    with running_platform(tmp_path_factory.mktemp("admin"), config=CONFIG, users=USERS) as s:
        s.admin("user", "role", "alice", "admin")
        yield s


def _rows(result: Result) -> list[list[str]]:
    assert result.exit_code == 0, result.output
    return [line.split() for line in result.stdout.splitlines()]


def test_admin_sets_quotas_that_config_show_prints(
    neuro: Neuro, log_in: LogIn, server: PlatformServer
) -> None:
    log_in(server, "bob")
    rows = _rows(neuro("config", "show"))
    assert ["Credits", "Quota", "unlimited"] in rows
    assert ["Jobs", "Quota", "unlimited"] in rows

    log_in(server, "alice")
    assert ["Jobs:", "3"] in _rows(neuro("admin", "set-user-quota", "default", "bob", "-j", "3"))
    rows = _rows(neuro("admin", "set-user-credits", "default", "bob", "-c", "12.5"))
    assert ["Credits:", "12.50"] in rows
    rows = _rows(neuro("admin", "add-user-credits", "default", "bob", "-c", "2"))
    assert ["Credits:", "14.50"] in rows
    rows = _rows(neuro("admin", "get-user-quota", "default", "bob"))
    assert ["Jobs:", "3"] in rows
    assert ["Credits", "spent:", "0.00"] in rows

    log_in(server, "bob")
    rows = _rows(neuro("config", "show"))
    assert ["Credits", "Quota", "14.50"] in rows
    assert ["Jobs", "Quota", "3"] in rows


def test_org_quota_rows_appear_in_an_org(
    neuro: Neuro, log_in: LogIn, server: PlatformServer
) -> None:
    log_in(server, "alice")
    _rows(neuro("admin", "set-org-cluster-quota", "default", "acme", "-j", "7"))
    rows = _rows(neuro("admin", "get-org-clusters", "default"))
    assert any(row[:1] == ["acme"] and "default" in row and "7" in row for row in rows)
    log_in(server, "bob")
    assert neuro("config", "switch-org", "acme").exit_code == 0
    rows = _rows(neuro("config", "show"))
    assert ["Org", "Jobs", "Quota", "7"] in rows
    assert ["Org", "Credits", "Quota", "unlimited"] in rows


def test_a_user_cannot_change_quotas(neuro: Neuro, log_in: LogIn, server: PlatformServer) -> None:
    log_in(server, "bob")
    result = neuro("admin", "set-user-quota", "default", "bob", "-j", "100")
    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "admin" in result.stderr
    result = neuro("admin", "add-cluster-user", "default", "bob", "admin")
    assert result.exit_code != 0


def test_bad_amounts_are_usage_errors(neuro: Neuro, log_in: LogIn, server: PlatformServer) -> None:
    log_in(server, "alice")
    result = neuro("admin", "set-user-quota", "default", "bob", "-j", "-1")
    assert result.exit_code == 2
    assert "jobs quota should be non-negative integer" in result.stderr
    result = neuro("admin", "set-user-credits", "default", "bob", "-c", "lots")
    assert result.exit_code == 2
    assert "lots is not valid decimal number" in result.stderr


def test_orgs_and_org_users(neuro: Neuro, log_in: LogIn, server: PlatformServer) -> None:
    log_in(server, "alice")
    assert ["acme"] in _rows(neuro("admin", "get-orgs"))
    rows = _rows(neuro("admin", "add-org-user", "acme", "bob", "manager"))
    assert ["Added", "bob", "to", "org", "acme", "as", "manager"] in rows
    members = _rows(neuro("admin", "get-org-users", "acme"))
    assert any(row[:1] == ["bob"] and "manager" in row for row in members)
    _rows(neuro("admin", "remove-org-user", "acme", "bob"))
    result = neuro("admin", "add-org", "other")
    assert result.exit_code != 0
    assert "server settings" in result.stderr
