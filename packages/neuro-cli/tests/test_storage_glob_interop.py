"""``neuro storage glob`` prints what the original ``neuro-cli==22.7.1`` prints for the same
patterns on the same files of our server (issue #16): ``**`` is the directory and everything
below it, files included; dot names only when the pattern starts with a dot."""

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

PATTERNS = [
    "storage:dir/**",
    "storage:dir/**/*.py",
    "storage:dir/*",
    "storage:dir/.*",
    "storage:dir/sub/**",
    "storage:/alice/dir/*.txt",
    "storage://default/alice/dir/s[u]b",
]
# Mistakes both refuse: a missing directory, and "?" (a URI's query, not a wildcard, on a
# command line).
FAILING = ["storage:dir/no-such/**", "storage:dir/s?b"]


@pytest.fixture
def original(platform_server: PlatformServer, tmp_path: Path) -> Original:
    config_dir = tmp_path / "original-config"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_original(config_dir, *args, columns=200)

    token = platform_server.issue_token("alice")
    login = run("config", "login-with-token", token, str(platform_server.api_url))
    assert login.returncode == 0, login.stderr
    return run


@pytest.fixture
def uploaded(neuro: Neuro, log_in: LogIn, platform_server: PlatformServer, tmp_path: Path) -> None:
    log_in(platform_server)
    tree = tmp_path / "dir"
    (tree / "sub" / "deeper").mkdir(parents=True)
    (tree / ".hidden").mkdir()
    (tree / "a.txt").write_text("a")
    (tree / "b.py").write_text("b")
    (tree / ".dot.txt").write_text("dot")
    (tree / "sub" / "c.py").write_text("c")
    (tree / "sub" / "deeper" / "d.txt").write_text("d")
    (tree / ".hidden" / "e.py").write_text("e")
    result = neuro("cp", "-r", str(tree), "storage:dir")
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("uploaded")
@pytest.mark.parametrize("pattern", PATTERNS)
def test_glob_prints_what_the_original_prints(
    original: Original, neuro: Neuro, pattern: str
) -> None:
    theirs = original("storage", "glob", pattern)
    assert theirs.returncode == 0, theirs.stderr
    ours = neuro("storage", "glob", pattern)
    assert ours.exit_code == 0, ours.output
    # The order of a directory's entries is the server's listing order in the original.
    assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines())
    assert ours.stdout.strip(), "every pattern here matches something"


@pytest.mark.usefixtures("uploaded")
@pytest.mark.parametrize("pattern", FAILING)
def test_glob_refuses_what_the_original_refuses(
    original: Original, neuro: Neuro, pattern: str
) -> None:
    theirs = original("storage", "glob", pattern)
    ours = neuro("storage", "glob", pattern)
    assert theirs.returncode != 0
    assert ours.exit_code != 0
    assert ours.stderr.startswith("ERROR: "), ours.output


@pytest.mark.usefixtures("uploaded")
def test_double_star_lists_files_too(neuro: Neuro) -> None:
    lines = neuro("storage", "glob", "storage:dir/**").stdout.splitlines()
    assert "storage://default/alice/dir/sub/deeper/d.txt" in lines
    assert "storage://default/alice/dir" in lines
    # Hidden names are left out of a recursive listing, as in a shell.
    assert not any("/." in line for line in lines)
