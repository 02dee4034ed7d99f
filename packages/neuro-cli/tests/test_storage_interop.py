"""The original ``neuro-cli==22.7.1`` and our CLI share files through our server: what one
uploads the other downloads byte for byte, and the original's ls/mkdir/mv/rm -r work."""

import hashlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from neuro_platform.testing.original_cli import run_original
from neuro_platform.testing.server import PlatformServer

pytestmark = pytest.mark.interop

Neuro = Callable[..., Result]
LogIn = Callable[..., str]
Original = Callable[..., subprocess.CompletedProcess[str]]


def digest(root: Path) -> dict[str, str]:
    result = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            result[str((Path(dirpath) / name).relative_to(root))] = "dir"
        for name in filenames:
            path = Path(dirpath) / name
            result[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


@pytest.fixture
def original(platform_server: PlatformServer, tmp_path: Path) -> Original:
    config_dir = tmp_path / "original-config"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_original(config_dir, *args, columns=160)

    token = platform_server.issue_token("alice")
    login = run("config", "login-with-token", token, str(platform_server.api_url))
    assert login.returncode == 0, login.stderr
    return run


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "nested dir" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "ünï.txt").write_text("unicode")
    (root / "empty").write_bytes(b"")
    (root / "nested dir" / "deeper" / "big.bin").write_bytes(os.urandom(3 * 2**20 + 7))
    return root


def test_original_uploads_and_we_download(
    original: Original,
    neuro: Neuro,
    log_in: LogIn,
    platform_server: PlatformServer,
    tree: Path,
    tmp_path: Path,
) -> None:
    log_in(platform_server)
    assert original("mkdir", "-p", "storage:shared").returncode == 0
    upload = original("cp", "-r", str(tree), "storage:shared/tree")
    assert upload.returncode == 0, upload.stderr

    ours = neuro("cp", "-r", "storage:shared/tree", str(tmp_path / "ours"))
    assert ours.exit_code == 0, ours.output
    assert digest(tmp_path / "ours") == digest(tree)


def test_we_upload_and_original_downloads_lists_moves_removes(
    original: Original,
    neuro: Neuro,
    log_in: LogIn,
    platform_server: PlatformServer,
    tree: Path,
    tmp_path: Path,
) -> None:
    log_in(platform_server)
    ours = neuro("cp", "-r", str(tree), "storage:from-ours")
    assert ours.exit_code == 0, ours.output

    listing = original("ls", "storage:from-ours")
    assert listing.returncode == 0, listing.stderr
    assert sorted(listing.stdout.split("\n")[:-1]) == ["a.txt", "empty", "nested dir", "ünï.txt"]
    moved = original("mv", "storage:from-ours", "storage:renamed")
    assert moved.returncode == 0, moved.stderr
    download = original("cp", "-r", "storage:renamed", str(tmp_path / "theirs"))
    assert download.returncode == 0, download.stderr
    assert digest(tmp_path / "theirs") == digest(tree)

    removed = original("rm", "-r", "storage:renamed")
    assert removed.returncode == 0, removed.stderr
    assert neuro("ls", "storage:").output.strip() == ""
