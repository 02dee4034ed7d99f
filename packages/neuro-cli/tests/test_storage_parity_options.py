"""The 22.x storage options ours lacked (issue #16, CLI part): cp/rm/mv --glob/--no-glob,
cp/rm -P/--no-progress, mv -t/--target-directory; against our server."""

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from neuro_platform.testing.server import PlatformServer

Neuro = Callable[..., Result]


@pytest.fixture
def logged_in(
    shared_platform_server: PlatformServer, log_in: Callable[..., str], neuro: Neuro
) -> Neuro:
    log_in(shared_platform_server)
    return neuro


def listing(neuro: Neuro, path: str) -> list[str]:
    result = neuro("ls", path)
    assert result.exit_code == 0, result.output
    return sorted(result.stdout.split())


def put(neuro: Neuro, tmp_path: Path, *uris: str) -> None:
    for uri in uris:
        local = tmp_path / "upload"
        local.write_text(uri)
        assert neuro("cp", str(local), uri).exit_code == 0


def test_mv_target_directory_and_glob(logged_in: Neuro, tmp_path: Path) -> None:
    assert logged_in("mkdir", "-p", "storage:mvt/src", "storage:mvt/dst").exit_code == 0
    put(logged_in, tmp_path, "storage:mvt/src/a.log", "storage:mvt/src/b.log")
    put(logged_in, tmp_path, "storage:mvt/src/c.txt")

    moved = logged_in("mv", "-t", "storage:mvt/dst", "storage:mvt/src/*.log")
    assert moved.exit_code == 0, moved.output
    assert listing(logged_in, "storage:mvt/dst") == ["a.log", "b.log"]
    assert listing(logged_in, "storage:mvt/src") == ["c.txt"]


def test_no_glob_takes_the_pattern_literally(logged_in: Neuro, tmp_path: Path) -> None:
    assert logged_in("mkdir", "-p", "storage:lit").exit_code == 0
    put(logged_in, tmp_path, "storage:lit/x1", "storage:lit/x2")

    # With --no-glob, "x*" is a name: there is no such file, and nothing is removed.
    literal = logged_in("rm", "--no-glob", "storage:lit/x*")
    assert literal.exit_code != 0
    assert listing(logged_in, "storage:lit") == ["x1", "x2"]
    copied = logged_in("cp", "--no-glob", "storage:lit/x*", str(tmp_path / "out"))
    assert copied.exit_code != 0
    assert not (tmp_path / "out").exists()
    moved = logged_in("mv", "--no-glob", "storage:lit/x*", "storage:lit/y")
    assert moved.exit_code != 0
    assert listing(logged_in, "storage:lit") == ["x1", "x2"]

    # The default (--glob) expands it.
    assert logged_in("rm", "-P", "--glob", "storage:lit/x*").exit_code == 0
    assert listing(logged_in, "storage:lit") == []


def test_no_progress_wins_over_progress(logged_in: Neuro, tmp_path: Path) -> None:
    put(logged_in, tmp_path, "storage:quiet.txt")
    # -p prints each removed entry; a later -P turns it off again.
    put(logged_in, tmp_path, "storage:loud.txt")
    loud = logged_in("rm", "-p", "storage:loud.txt")
    assert "loud.txt" in loud.stdout
    quiet = logged_in("rm", "-p", "-P", "storage:quiet.txt")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ("mv", "-t", "storage:d", "-T", "storage:a"),
        ("mv", "storage:only-one"),
        ("mv", "-t", "storage:d"),
    ],
)
def test_bad_mv_arguments_are_one_line(logged_in: Neuro, args: tuple[str, ...]) -> None:
    result = logged_in(*args)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("ERROR: ")


def test_tree_sort(logged_in: Neuro, tmp_path: Path) -> None:
    small, big = tmp_path / "small", tmp_path / "big"
    small.write_text("a")
    big.write_text("b" * 1000)
    assert logged_in("mkdir", "-p", "storage:sorted").exit_code == 0
    assert logged_in("cp", str(big), "storage:sorted/a-big").exit_code == 0
    assert logged_in("cp", str(small), "storage:sorted/b-small").exit_code == 0

    def order(*args: str) -> list[str]:
        result = logged_in("storage", "tree", *args, "storage:sorted")
        assert result.exit_code == 0, result.output
        return [word for word in result.stdout.split() if word in ("a-big", "b-small")]

    assert order() == ["a-big", "b-small"]
    assert order("--sort", "size") == ["b-small", "a-big"]
    bad = logged_in("storage", "tree", "--sort", "colour", "storage:sorted")
    assert bad.exit_code == 2
    assert len(bad.stderr.strip().splitlines()) == 1
