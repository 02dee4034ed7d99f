"""The original ``neuro-cli==22.7.1`` manages secrets, disks and service accounts on our
server; the results are checked with our SDK."""

import asyncio
from pathlib import Path

import pytest

import neuro_sdk
from neuro_platform.testing.original_cli import run_original
from neuro_platform.testing.server import PlatformServer

pytestmark = pytest.mark.interop


@pytest.fixture
def original(platform_server: PlatformServer, tmp_path: Path) -> Path:
    config_dir = tmp_path / "original-config"
    token = platform_server.issue_token("alice")
    login = run_original(
        config_dir, "config", "login-with-token", token, str(platform_server.api_url), columns=160
    )
    assert login.returncode == 0, login.stderr
    return config_dir


def _secret_keys(server: PlatformServer, tmp_path: Path) -> list[str]:
    async def keys() -> list[str]:
        async with await _ours_async(server, tmp_path) as client, client.secrets.list() as s:
            return [secret.key async for secret in s]

    return asyncio.run(keys())


async def _ours_async(server: PlatformServer, tmp_path: Path) -> neuro_sdk.Client:
    config_dir = tmp_path / "our-config"
    if not config_dir.exists():
        token = server.issue_token("alice")
        await neuro_sdk.login_with_token(token, url=server.api_url, path=config_dir)
    return await neuro_sdk.get(path=config_dir)


def _disk_names(server: PlatformServer, tmp_path: Path) -> list[str | None]:
    async def names() -> list[str | None]:
        async with await _ours_async(server, tmp_path) as client, client.disks.list() as disks:
            return [d.name async for d in disks]

    return asyncio.run(names())


def test_original_secret_add_ls_rm(
    original: Path, platform_server: PlatformServer, tmp_path: Path
) -> None:
    added = run_original(original, "secret", "add", "api-key", "s3cr3t", columns=160)
    assert added.returncode == 0, added.stderr
    assert _secret_keys(platform_server, tmp_path) == ["api-key"]
    listed = run_original(original, "secret", "ls", columns=160)
    assert listed.returncode == 0, listed.stderr
    assert "api-key" in listed.stdout
    assert "s3cr3t" not in listed.stdout
    removed = run_original(original, "secret", "rm", "api-key", columns=160)
    assert removed.returncode == 0, removed.stderr
    assert _secret_keys(platform_server, tmp_path) == []


def test_original_disk_create_ls_rm(
    original: Path, platform_server: PlatformServer, tmp_path: Path
) -> None:
    created = run_original(
        original,
        "disk",
        "create",
        "16M",
        "--name",
        "interop",
        "--timeout-unused",
        "1d",
        columns=160,
    )
    assert created.returncode == 0, created.stderr
    assert "Ready" in created.stdout
    assert _disk_names(platform_server, tmp_path) == ["interop"]
    listed = run_original(original, "disk", "ls", columns=160)
    assert listed.returncode == 0, listed.stderr
    assert "interop" in listed.stdout
    removed = run_original(original, "disk", "rm", "interop", columns=160)
    assert removed.returncode == 0, removed.stderr
    assert _disk_names(platform_server, tmp_path) == []


def test_original_service_account_create_ls(original: Path) -> None:
    created = run_original(original, "service-account", "create", "--name", "ci-bot", columns=160)
    assert created.returncode == 0, created.stderr
    assert "alice/service-accounts/ci-bot" in created.stdout
    listed = run_original(original, "service-account", "ls", columns=160)
    assert listed.returncode == 0, listed.stderr
    assert "ci-bot" in listed.stdout
