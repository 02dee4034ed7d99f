"""The original ``neuro-cli==22.7.1`` shares, lists and revokes against our server.

It lives in a virtual environment of its own (made by ``scripts/setup-interop-venv.sh``);
what it grants is checked with our SDK as bob.
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from yarl import URL

import neuro_sdk
from neuro_platform.testing.original_cli import run_original
from neuro_platform.testing.server import PlatformServer

SHARED = URL("storage://default/alice/shared")

pytestmark = pytest.mark.interop


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _bob_reads(server: PlatformServer, config_dir: Path) -> bool:
    await neuro_sdk.login_with_token(server.issue_token("bob"), url=server.api_url, path=config_dir)
    async with neuro_sdk.get(path=config_dir) as client:
        try:
            async with client.storage.open(SHARED / "data.txt") as chunks:
                return b"".join([c async for c in chunks]) == b"shared"
        except neuro_sdk.AuthorizationError:
            return False
        finally:
            await neuro_sdk.logout(path=config_dir)


def bob_reads(server: PlatformServer, tmp_path: Path) -> bool:
    return asyncio.run(_bob_reads(server, tmp_path / "bob-sdk-config"))


@pytest.fixture
def alice_original(platform_server: PlatformServer, tmp_path: Path) -> Path:
    """The original CLI's config dir, logged in as alice who owns storage:shared/data.txt."""
    config_dir = tmp_path / "original-alice"
    login = run_original(
        config_dir,
        "config",
        "login-with-token",
        platform_server.issue_token("alice"),
        str(platform_server.api_url),
        columns=160,
    )
    assert login.returncode == 0, login.stderr

    async def upload() -> None:
        sdk_dir = tmp_path / "alice-sdk-config"
        token = platform_server.issue_token("alice")
        await neuro_sdk.login_with_token(token, url=platform_server.api_url, path=sdk_dir)
        async with neuro_sdk.get(path=sdk_dir) as client:
            await client.storage.mkdir(SHARED, parents=True)
            await client.storage.create(SHARED / "data.txt", _chunks(b"shared"))

    asyncio.run(upload())
    return config_dir


def test_original_share_grant_ls_revoke(
    platform_server: PlatformServer, alice_original: Path, tmp_path: Path
) -> None:
    shared = run_original(alice_original, "share", "storage:shared", "bob", "read", columns=160)
    assert shared.returncode == 0, shared.stderr
    assert bob_reads(platform_server, tmp_path)

    granted = run_original(
        alice_original, "acl", "grant", "storage:shared", "bob", "write", columns=160
    )
    assert granted.returncode == 0, granted.stderr

    listed = run_original(alice_original, "acl", "ls", "--shared", columns=160)
    assert listed.returncode == 0, listed.stderr
    assert [line.split() for line in listed.stdout.splitlines()] == [
        ["storage:shared", "write", "bob"]
    ]
    own = run_original(alice_original, "acl", "ls", "--full-uri", columns=160)
    assert own.returncode == 0, own.stderr
    assert ["storage://default/alice", "manage"] in [
        line.split() for line in own.stdout.splitlines()
    ]

    revoked = run_original(alice_original, "acl", "revoke", "storage:shared", "bob", columns=160)
    assert revoked.returncode == 0, revoked.stderr
    assert not bob_reads(platform_server, tmp_path)
    assert run_original(alice_original, "acl", "ls", "--shared", columns=160).stdout.strip() == ""


def test_original_reports_bad_shares(alice_original: Path) -> None:
    unknown = run_original(alice_original, "share", "storage:shared", "nobody", "read", columns=160)
    assert unknown.returncode != 0
    assert "no user or role named 'nobody'" in unknown.stderr

    foreign = run_original(alice_original, "share", "storage:/bob/x", "bob", "read", columns=160)
    assert foreign.returncode != 0
    assert "storage://default/bob/x" in foreign.stderr
