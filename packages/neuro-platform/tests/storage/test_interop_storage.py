"""The original published client (neuro-cli 22.7.1) uses our storage service unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.original_cli import run_original

pytestmark = pytest.mark.interop


class OriginalCli:
    def __init__(self, config_dir: Path) -> None:
        self._config_dir = config_dir

    def __call__(self, *args: str) -> str:
        result = run_original(self._config_dir, *args)
        assert result.returncode == 0, f"neuro {' '.join(args)}: {result.stderr}"
        return result.stdout


def make_tree(root: Path) -> dict[str, bytes]:
    files = {
        "a.txt": b"hello",
        "empty": b"",
        "sub/b ü.txt": "unicode ✓".encode(),
        "sub/deep/big.bin": os.urandom(3 * 1024 * 1024 + 5),  # several 1 MiB chunks
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def test_original_cli_copies_lists_moves_and_removes(
    platform_server: PlatformServer, tmp_path: Path
) -> None:
    neuro = OriginalCli(tmp_path / "neuro-config")
    neuro(
        "config",
        "login-with-token",
        platform_server.issue_token("alice"),
        str(platform_server.api_url),
    )
    source = tmp_path / "source"
    files = make_tree(source)

    neuro("mkdir", "-p", "storage:x/y")
    neuro("cp", "-r", str(source), "storage:data")
    assert neuro("ls").split() == ["data", "x"]
    listing = neuro("ls", "-l", "storage:data/sub")
    assert "b ü.txt" in listing
    assert "deep" in listing
    neuro("mv", "storage:data/a.txt", "storage:data/moved.txt")
    neuro("cp", "-r", "storage:data", str(tmp_path / "back"))

    files["moved.txt"] = files.pop("a.txt")
    downloaded = {
        str(path.relative_to(tmp_path / "back")): path.read_bytes()
        for path in (tmp_path / "back").rglob("*")
        if path.is_file()
    }
    assert downloaded == files
    stored = platform_server.data_dir / "storage" / "default" / "alice" / "data"
    assert (stored / "sub" / "deep" / "big.bin").read_bytes() == files["sub/deep/big.bin"]

    neuro("rm", "-r", "storage:data")
    assert neuro("ls").split() == ["x"]
    assert not stored.exists()
