"""``neuro acl`` and ``neuro share`` run in-process for alice and bob against our real server.

Access is checked with the SDK from the same config directories the CLI logged into. The
tests are synchronous: each CLI invocation runs its own event loop, and so do the checks.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from yarl import URL

import neuro_sdk
from neuro_cli.main import cli
from neuro_platform.testing.server import PlatformServer

Neuro = Callable[..., Result]
LogIn = Callable[..., str]

SHARED = URL("storage://default/alice/shared")


@pytest.fixture
def bob_config_dir(tmp_path: Path) -> Path:
    return tmp_path / "bob-config"


@pytest.fixture
def bob_neuro(bob_config_dir: Path, platform_server: PlatformServer) -> Neuro:
    """``neuro`` as bob, logged in with a token of his."""

    def run(*args: str) -> Result:
        runner = CliRunner(env={"COLUMNS": "120"})
        return runner.invoke(cli, ["--neuromation-config", str(bob_config_dir), *args])

    token = platform_server.issue_token("bob")
    login = run("config", "login-with-token", token, str(platform_server.api_url))
    assert login.exit_code == 0, login.output
    return run


@pytest.fixture
def alice_files(log_in: LogIn, platform_server: PlatformServer, config_dir: Path) -> None:
    """Alice logged into the CLI, with storage:shared/data.txt and storage:private/x.txt."""
    log_in(platform_server, "alice")

    async def upload() -> None:
        async with neuro_sdk.get(path=config_dir) as client:
            await client.storage.mkdir(SHARED, parents=True)
            await client.storage.create(SHARED / "data.txt", _chunks(b"shared"))
            await client.storage.mkdir(URL("storage:private"), parents=True)
            await client.storage.create(URL("storage:private/x.txt"), _chunks(b"private"))

    asyncio.run(upload())


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _can_read(config_dir: Path, uri: URL) -> bool:
    return asyncio.run(_try_read(config_dir, uri))


def _can_write(config_dir: Path, uri: URL) -> bool:
    return asyncio.run(_try_write(config_dir, uri))


async def _try_read(config_dir: Path, uri: URL) -> bool:
    async with neuro_sdk.get(path=config_dir) as client:
        try:
            async with client.storage.open(uri) as chunks:
                await anext(chunks)
        except neuro_sdk.AuthorizationError:
            return False
    return True


async def _try_write(config_dir: Path, uri: URL) -> bool:
    async with neuro_sdk.get(path=config_dir) as client:
        try:
            await client.storage.create(uri, _chunks(b"from bob"))
        except neuro_sdk.AuthorizationError:
            return False
    return True


def _rows(result: Result) -> list[list[str]]:
    return [line.split() for line in result.stdout.splitlines()]


@pytest.mark.usefixtures("alice_files")
def test_share_read_then_write_then_revoke(
    neuro: Neuro, bob_neuro: Neuro, bob_config_dir: Path
) -> None:
    shared = neuro("share", "storage:shared", "bob", "read")

    assert shared.exit_code == 0, shared.output
    assert shared.stdout == f"Granted read on {SHARED} to bob\n"
    assert _can_read(bob_config_dir, SHARED / "data.txt")
    assert not _can_read(bob_config_dir, URL("storage://default/alice/private/x.txt"))
    assert not _can_write(bob_config_dir, SHARED / "bob.txt")
    assert [str(SHARED), "read"] in _rows(bob_neuro("acl", "ls", "--scheme", "storage"))

    assert neuro("acl", "grant", "storage:shared", "bob", "WRITE").exit_code == 0
    assert _can_write(bob_config_dir, SHARED / "bob.txt")

    listed = neuro("acl", "ls", "--shared", "--full-uri")
    assert listed.exit_code == 0, listed.output
    assert _rows(listed) == [[str(SHARED), "write", "bob"]]
    # Short by default, as 22.x prints them.
    assert _rows(neuro("acl", "ls", "--shared")) == [["storage:shared", "write", "bob"]]

    revoked = neuro("acl", "revoke", "storage:shared", "bob")
    assert revoked.exit_code == 0, revoked.output
    assert revoked.stdout == f"Revoked every permission of bob on {SHARED}\n"
    assert not _can_read(bob_config_dir, SHARED / "data.txt")
    assert neuro("acl", "ls", "--shared").stdout == ""


@pytest.mark.usefixtures("alice_files")
def test_roles_from_the_command_line(neuro: Neuro, bob_config_dir: Path, bob_neuro: Neuro) -> None:
    assert neuro("acl", "add-role", "alice/team").stdout == "Role alice/team created\n"
    assert neuro("acl", "grant", "storage:shared", "alice/team", "read").exit_code == 0
    assert not _can_read(bob_config_dir, SHARED / "data.txt")

    member = neuro("acl", "grant", "role://alice/team", "bob", "read")

    assert member.exit_code == 0, member.output
    assert _can_read(bob_config_dir, SHARED / "data.txt")
    assert neuro("acl", "list-roles").stdout == "alice/team\n"
    assert neuro("acl", "list-roles", "-u", "alice").stdout == "alice/team\n"
    assert neuro("acl", "list-roles", "-u", "alice", "alice").exit_code == 2
    assert ["role://alice/team", "read"] in _rows(bob_neuro("acl", "ls", "role:"))

    assert neuro("acl", "remove-role", "alice/team").stdout == "Role alice/team removed\n"
    assert not _can_read(bob_config_dir, SHARED / "data.txt")
    assert neuro("acl", "list-roles").stdout == ""


def test_ls_shows_own_trees_and_filters(
    neuro: Neuro, log_in: LogIn, platform_server: PlatformServer
) -> None:
    log_in(platform_server, "alice")

    everything = neuro("acl", "ls", "--full-uri")
    storage = neuro("acl", "ls", "--full-uri", "storage:data")

    assert everything.exit_code == 0, everything.output
    assert ["role://alice", "manage"] in _rows(everything)
    assert ["storage://default/alice", "manage"] in _rows(everything)
    assert _rows(storage) == [["storage://default/alice", "manage"]]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ("share", "storage:shared", "nobody", "read"),
            "ERROR: no user or role named 'nobody'",
        ),
        (("share", "shared", "bob", "read"), "ERROR: Invalid resource URI 'shared'"),
        (
            ("share", "storage://default/bob/x", "bob", "read"),
            "ERROR: Permission denied: you need manage on storage://default/bob/x",
        ),
        (("share", "image:ubuntu:22.04", "bob", "read"), "a tag cannot be shared on its own"),
        (("share", "role:alice/team", "bob", "read"), "write it as role://<role name>"),
        (("acl", "revoke", "storage:shared", "bob"), "holds no permission"),
    ],
)
@pytest.mark.usefixtures("alice_files")
def test_bad_input_is_one_line_error_and_changes_nothing(
    neuro: Neuro, bob_neuro: Neuro, args: tuple[str, ...], error: str
) -> None:
    before = bob_neuro("acl", "ls").stdout

    result = neuro(*args)

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert error in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert bob_neuro("acl", "ls").stdout == before
    assert neuro("acl", "ls", "--shared").stdout == ""


def test_action_outside_read_write_manage_is_a_usage_error(
    neuro: Neuro, log_in: LogIn, platform_server: PlatformServer
) -> None:
    log_in(platform_server, "alice")

    result = neuro("acl", "grant", "storage:shared", "bob", "deny")

    assert result.exit_code == 2
    assert "'deny' is not one of 'read', 'write', 'manage'" in result.stderr
