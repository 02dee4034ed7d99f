"""``neuro cp/ls/mkdir/mv/rm`` and ``neuro storage glob/df/tree`` against the real server."""

import gc
import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from neuro_cli import process_gc
from neuro_platform.testing.server import PlatformServer

Neuro = Callable[..., Result]
LogIn = Callable[..., str]


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
def logged_in(platform_server: PlatformServer, log_in: LogIn, neuro: Neuro) -> Neuro:
    log_in(platform_server)
    return neuro


@pytest.fixture
def local_tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "sub dir" / "deep").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "ünï.txt").write_text("unicode")
    (root / "empty.bin").write_bytes(b"")
    (root / "sub dir" / "deep" / "big.bin").write_bytes(os.urandom(300_000))
    (root / "debug.log").write_text("ignored")
    (root / ".neuroignore").write_text("*.log\n")
    return root


def test_making_the_client_ends_the_collectors_pause(
    logged_in: Neuro, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As main() leaves it for the start-up of a `neuro` process (neuro_cli.process_gc),
    # without freezing this test process's heap.
    monkeypatch.setattr(process_gc, "_paused", True)
    monkeypatch.setattr(gc, "freeze", lambda: None)
    gc.disable()
    try:
        assert logged_in("ls", "storage:").exit_code == 0
        assert gc.isenabled()
    finally:
        gc.enable()


def test_cp_recursive_both_ways(logged_in: Neuro, local_tree: Path, tmp_path: Path) -> None:
    neuro = logged_in
    up = neuro("cp", "-r", str(local_tree), "storage:")
    assert up.exit_code == 0, up.output
    down = neuro("cp", "-r", "storage:project", str(tmp_path / "back"))
    assert down.exit_code == 0, down.output

    expected = digest(local_tree)
    del expected["debug.log"]  # .neuroignore is honoured by default
    assert digest(tmp_path / "back") == expected


def test_cp_into_existing_directory_and_filters_in_order(
    logged_in: Neuro, local_tree: Path, tmp_path: Path
) -> None:
    neuro = logged_in
    assert neuro("mkdir", "-p", "storage:target").exit_code == 0
    result = neuro(
        "cp", "-r", "--exclude", "*.txt", "--include", "a.txt", "--exclude-from-files", "",
        str(local_tree), "storage:target",
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    listing = neuro("ls", "storage:target/project")
    assert listing.output.splitlines() == [
        "a.txt", "debug.log", "empty.bin", "sub dir",
    ]  # fmt: skip


def test_cp_file_with_progress_and_update(logged_in: Neuro, tmp_path: Path) -> None:
    neuro = logged_in
    source = tmp_path / "data.bin"
    source.write_bytes(os.urandom(50_000))
    result = neuro("cp", "-p", str(source), "storage:data.bin")
    assert result.exit_code == 0, result.output
    assert "1/1 files" in result.output
    assert "50.0 kB" in result.output

    target = tmp_path / "copy.bin"
    assert neuro("cp", "storage:data.bin", str(target)).exit_code == 0
    assert target.read_bytes() == source.read_bytes()
    target.write_bytes(b"local is newer")
    assert neuro("cp", "-u", "storage:data.bin", str(target)).exit_code == 0
    assert target.read_bytes() == b"local is newer"


def test_ls_long_human_and_all(logged_in: Neuro, tmp_path: Path) -> None:
    neuro = logged_in
    (tmp_path / "f.bin").write_bytes(b"x" * 2048)
    (tmp_path / ".hidden").write_text("h")
    assert neuro("mkdir", "storage:dir").exit_code == 0
    assert (
        neuro("cp", str(tmp_path / "f.bin"), str(tmp_path / ".hidden"), "storage:dir").exit_code
        == 0
    )

    long = neuro("ls", "-l", "storage:dir")
    assert long.exit_code == 0, long.output
    (row,) = long.output.splitlines()
    mode, size, _date, _time, name = row.split()
    assert (mode, size, name) == ("-m", "2048", "f.bin")
    assert neuro("ls", "-l", "-h", "storage:dir").output.split()[1] == "2.0K"
    assert neuro("ls", "-a", "storage:dir").output.split() == [".hidden", "f.bin"]
    assert neuro("ls", "-d", "-l", "storage:dir").output.split()[0] == "dm"


def test_ls_of_a_folder_is_its_listing_alone_and_of_a_file_its_stat(
    logged_in: Neuro, tmp_path: Path
) -> None:
    neuro = logged_in
    (tmp_path / "f.txt").write_text("x")
    assert neuro("mkdir", "storage:one-request").exit_code == 0
    assert neuro("cp", str(tmp_path / "f.txt"), "storage:one-request/f.txt").exit_code == 0

    def requests(*args: str) -> tuple[list[str], list[str]]:
        result = neuro("--trace", *args)
        assert result.exit_code == 0, result.output
        operations = re.findall(r"> GET \S*\?op=(\w+) ", result.stderr)
        return operations, result.stdout.split()

    # No stat before the listing: a folder of 100k entries lists as soon as it can.
    assert requests("ls", "storage:one-request") == (["LISTSTATUS"], ["f.txt"])
    # A file's listing is refused (ENOTDIR): its stat follows, and ls prints the file.
    assert requests("ls", "-l", "storage:one-request/f.txt")[0] == ["LISTSTATUS", "GETFILESTATUS"]
    assert requests("ls", "storage:one-request/f.txt")[1] == ["f.txt"]
    # -d lists nothing: the stat alone.
    assert requests("ls", "-d", "storage:one-request") == (["GETFILESTATUS"], ["one-request"])
    missing = neuro("ls", "storage:one-request/missing")
    assert missing.exit_code == 1
    assert "No such file or directory" in missing.output


def test_mv_rm_glob_tree_df(logged_in: Neuro, tmp_path: Path) -> None:
    neuro = logged_in
    assert neuro("mkdir", "-p", "storage:work/inner").exit_code == 0
    (tmp_path / "x.py").write_text("print()")
    assert neuro("cp", str(tmp_path / "x.py"), "storage:work/inner/x.py").exit_code == 0

    assert neuro("mv", "storage:work/inner", "storage:work/moved").exit_code == 0
    glob = neuro("storage", "glob", "storage:work/**/*.py")
    assert glob.output.strip() == "storage://default/alice/work/moved/x.py"
    tree = neuro("storage", "tree", "storage:work")
    assert "└── moved" in tree.output
    assert "1 directories, 1 files" in tree.output
    df = neuro("storage", "df")
    assert df.exit_code == 0
    assert "default" in df.output

    refused = neuro("rm", "storage:work")
    assert refused.exit_code == 1
    removed = neuro("rm", "-r", "-p", "storage:work")
    assert removed.exit_code == 0, removed.output
    assert "removed file 'storage://default/alice/work/moved/x.py'" in removed.output
    assert neuro("ls", "storage:").output.strip() == ""


def test_user_errors_are_one_line(logged_in: Neuro, tmp_path: Path) -> None:
    neuro = logged_in
    missing = neuro("cp", "storage:no-such-file", str(tmp_path / "x"))
    assert missing.exit_code == 1
    assert missing.output.startswith("ERROR: ")
    assert len(missing.output.strip().splitlines()) == 1

    (tmp_path / "d").mkdir()
    not_recursive = neuro("cp", str(tmp_path / "d"), "storage:d")
    assert not_recursive.exit_code == 1
    assert "use -r" in not_recursive.output

    ls_missing = neuro("ls", "storage:nothing-here")
    assert ls_missing.exit_code == 1
    assert ls_missing.output.startswith("ERROR: ")

    assert neuro("mkdir", "storage:a/b/c").exit_code == 1
