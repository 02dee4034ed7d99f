"""``neuro secret``, ``neuro disk`` and ``neuro service-account`` in-process against our real
server; what they did is checked with the SDK or by a second CLI session."""

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

import neuro_sdk
from neuro_cli.commands.disk import parse_duration, parse_size
from neuro_cli.main import cli
from neuro_platform.testing.server import PlatformServer

from .conftest import LogIn, NeuroRunner


def _secret_keys(config_dir: Path) -> list[str]:
    async def keys() -> list[str]:
        async with neuro_sdk.get(path=config_dir) as client, client.secrets.list() as secrets:
            return [s.key async for s in secrets]

    return asyncio.run(keys())


def test_secret_add_from_value_and_file_ls_rm(
    neuro: NeuroRunner, log_in: LogIn, platform_server: PlatformServer, tmp_path: Path
) -> None:
    log_in(platform_server)
    key_file = tmp_path / "id_rsa"
    key_file.write_bytes(b"-----BEGIN KEY-----")
    assert neuro("secret", "add", "password", "p4ss").exit_code == 0
    added = neuro("secret", "add", "ssh-key", f"@{key_file}")
    assert added.exit_code == 0, added.output
    listed = neuro("secret", "ls", "--full-uri")
    assert "password" in listed.output
    assert "secret://default/alice/ssh-key" in listed.output
    assert "secret:ssh-key" in neuro("secret", "ls").output
    assert "p4ss" not in listed.output
    assert _secret_keys(neuro.config_dir) == ["password", "ssh-key"]
    assert neuro("secret", "rm", "password").exit_code == 0
    assert _secret_keys(neuro.config_dir) == ["ssh-key"]
    missing = neuro("secret", "rm", "password")
    assert missing.exit_code != 0
    assert "not found" in missing.output
    unreadable = neuro("secret", "add", "x", f"@{tmp_path / 'nope'}")
    assert unreadable.exit_code != 0
    assert "Cannot read" in unreadable.output


def test_disk_create_ls_get_rm(
    neuro: NeuroRunner, log_in: LogIn, platform_server: PlatformServer
) -> None:
    log_in(platform_server)
    created = neuro("disk", "create", "8Mi", "--name", "data", "--timeout-unused", "1d2h")
    assert created.exit_code == 0, created.output
    assert "Ready" in created.output
    assert "8.0 MiB" in created.output
    assert "1d2h" in created.output
    listed = neuro("disk", "ls")
    assert "data" in listed.output
    shown = neuro("disk", "get", "--full-uri", "data")
    assert "Ready" in shown.output
    assert "disk://default/alice/disk-" in shown.output
    assert "disk:disk-" in neuro("disk", "get", "data").output
    long_listed = neuro("disk", "ls", "--long-format")
    assert "disk:disk-" in long_listed.output
    assert "disk:disk-" not in listed.output
    assert neuro("disk", "rm", "data").exit_code == 0
    gone = neuro("disk", "get", "data")
    assert gone.exit_code != 0
    assert "not found" in gone.output
    bad = neuro("disk", "create", "lots")
    assert bad.exit_code == 2
    assert "not a size" in bad.output


def test_service_account_token_runs_ps_until_removed(
    neuro: NeuroRunner, log_in: LogIn, platform_server: PlatformServer, tmp_path: Path
) -> None:
    log_in(platform_server)
    created = neuro("service-account", "create", "--name", "ci")
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert "alice/service-accounts/ci" in neuro("service-account", "ls").output
    assert "alice/service-accounts/ci" in neuro("service-account", "get", "ci").output

    def robot_ps() -> int:
        runner = CliRunner(env={"NEURO_PASSED_CONFIG": token, "COLUMNS": "120"})
        config = tmp_path / "robot-config"
        return runner.invoke(cli, ["--neuromation-config", str(config), "ps"]).exit_code

    assert robot_ps() == 0
    assert neuro("service-account", "rm", "ci").exit_code == 0
    assert robot_ps() != 0


@pytest.mark.parametrize(
    ("text", "size"),
    [("100", 100), ("2K", 2000), ("10G", 10 * 10**9), ("10Gi", 10 * 2**30), ("1.5Mi", 1572864)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_durations() -> None:
    assert parse_duration("1d2h3m4s").total_seconds() == 93784
    assert parse_duration("90m").total_seconds() == 5400
