"""The original ``neuro-cli==22.7.1`` and our ``neuro blob`` on the same buckets of our
server: what one uploads the other downloads byte-identical, and both list the same."""

import os
import uuid
from pathlib import Path

import pytest

from neuro_platform.testing.original_cli import run_original
from neuro_platform.testing.server import PlatformServer

from .conftest import LogIn, NeuroRunner

pytestmark = pytest.mark.interop


@pytest.fixture
def original(buckets_platform_server: PlatformServer, tmp_path: Path) -> Path:
    config_dir = tmp_path / "original-config"
    token = buckets_platform_server.issue_token("alice")
    login = run_original(
        config_dir, "config", "login-with-token", token, str(buckets_platform_server.api_url)
    )
    assert login.returncode == 0, login.stderr
    return config_dir


@pytest.fixture
def ours(neuro: NeuroRunner, log_in: LogIn, buckets_platform_server: PlatformServer) -> NeuroRunner:
    log_in(buckets_platform_server)
    return neuro


def _lines(output: str) -> list[str]:
    return sorted(line.strip() for line in output.splitlines() if line.strip())


def test_original_uploads_ours_downloads_and_both_list_alike(
    original: Path, ours: NeuroRunner, tmp_path: Path
) -> None:
    name = f"interop-{uuid.uuid4().hex[:8]}"
    made = run_original(original, "blob", "mkbucket", "--name", name)
    assert made.returncode == 0, made.stderr
    data = os.urandom(9 * 1024 * 1024 + 17)
    (tmp_path / "big.bin").write_bytes(data)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("bb")
    uploads: list[tuple[str, ...]] = [
        ("cp", str(tmp_path / "big.bin"), f"blob:{name}/big.bin"),
        ("cp", "-r", str(tree), f"blob:{name}/tree"),
    ]
    for args in uploads:
        copied = run_original(original, "blob", *args)
        assert copied.returncode == 0, copied.stderr

    down = tmp_path / "down.bin"
    assert ours("blob", "cp", f"blob:{name}/big.bin", str(down)).exit_code == 0
    assert down.read_bytes() == data
    assert ours("blob", "cp", "-r", f"blob:{name}/tree", str(tmp_path / "t2")).exit_code == 0
    assert (tmp_path / "t2" / "sub" / "b.txt").read_text() == "bb"

    listings: list[tuple[str, ...]] = [
        ("ls", f"blob:{name}"),
        ("ls", "-r", f"blob:{name}/tree/"),
        ("glob", f"blob:{name}/**/*.txt"),
        ("ls", "--full-uri", f"blob:{name}/tree/"),
    ]
    for args in listings:
        theirs = run_original(original, "blob", *args)
        assert theirs.returncode == 0, theirs.stderr
        mine = ours("blob", *args)
        assert mine.exit_code == 0, mine.output
        assert _lines(mine.output) == _lines(theirs.stdout), args

    their_du = run_original(original, "blob", "du", name)
    assert their_du.returncode == 0, their_du.stderr
    our_du = ours("blob", "du", name)
    count = [line for line in their_du.stdout.splitlines() if "Objects count" in line]
    assert count
    assert count[0].strip() in our_du.output

    removed = run_original(original, "blob", "rm", "-r", f"blob:{name}/tree")
    assert removed.returncode == 0, removed.stderr
    assert _lines(ours("blob", "ls", f"blob:{name}").output) == [f"blob:{name}/big.bin"]


def test_ours_uploads_the_original_downloads(
    original: Path, ours: NeuroRunner, tmp_path: Path
) -> None:
    name = f"interop-{uuid.uuid4().hex[:8]}"
    assert ours("blob", "mkbucket", "--name", name).exit_code == 0
    data = os.urandom(20 * 1024 * 1024 + 1)  # multipart from our side
    (tmp_path / "big.bin").write_bytes(data)
    tree = tmp_path / "tree"
    (tree / "empty").mkdir(parents=True)
    (tree / "x.txt").write_text("x")
    assert ours("blob", "cp", str(tmp_path / "big.bin"), f"blob:{name}/").exit_code == 0
    assert ours("blob", "cp", "-r", str(tree), f"blob:{name}/tree").exit_code == 0

    got = run_original(original, "blob", "cp", f"blob:{name}/big.bin", str(tmp_path / "o.bin"))
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "o.bin").read_bytes() == data
    got_tree = run_original(
        original, "blob", "cp", "-r", f"blob:{name}/tree", str(tmp_path / "o-tree")
    )
    assert got_tree.returncode == 0, got_tree.stderr
    assert (tmp_path / "o-tree" / "x.txt").read_text() == "x"
    assert (tmp_path / "o-tree" / "empty").is_dir()
    listed = run_original(original, "blob", "lsbucket")
    assert name in listed.stdout
