"""``neuro blob`` in-process against our real server and its SeaweedFS."""

import os
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from neuro_platform.testing.server import PlatformServer

from .conftest import LogIn, NeuroRunner


@pytest.fixture
def name() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def logged_in(neuro: NeuroRunner, log_in: LogIn, buckets_platform_server: PlatformServer) -> None:
    log_in(buckets_platform_server)


def _lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip()]


@pytest.mark.usefixtures("logged_in")
def test_bucket_lifecycle(neuro: NeuroRunner, name: str) -> None:
    made = neuro("blob", "mkbucket", "--name", name)
    assert made.exit_code == 0, made.output
    assert f"blob:{name}" in made.output
    listed = neuro("blob", "lsbucket")
    assert name in listed.output
    stat = neuro("blob", "statbucket", name, "--full-uri")
    assert f"blob://default/alice/{name}" in stat.output
    assert neuro("blob", "set-bucket-publicity", name, "public").exit_code == 0
    assert "True" in neuro("blob", "statbucket", name).output  # Public
    assert name in neuro("blob", "ls").output
    removed = neuro("blob", "rmbucket", name)
    assert removed.exit_code == 0, removed.output
    assert name not in neuro("blob", "lsbucket").output


@pytest.mark.usefixtures("logged_in")
def test_cp_ls_glob_du_rm(neuro: NeuroRunner, name: str, tmp_path: Path) -> None:
    assert neuro("blob", "mkbucket", "--name", name).exit_code == 0
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_bytes(b"aaa")
    (tree / "sub" / "b.txt").write_bytes(b"bb")
    big = tmp_path / "big.bin"
    data = os.urandom(20 * 1024 * 1024 + 3)  # above one part: multipart up, ranged down
    big.write_bytes(data)

    assert neuro("blob", "cp", "-r", str(tree), f"blob:{name}/tree").exit_code == 0
    up = neuro("blob", "cp", str(big), f"blob:{name}/")
    assert up.exit_code == 0, up.output

    assert _lines(neuro("blob", "ls", f"blob:{name}").output) == [
        f"blob:{name}/big.bin",
        f"blob:{name}/tree/",
    ]
    recursive = _lines(neuro("blob", "ls", "-r", f"blob:{name}/tree/").output)
    assert recursive == [
        f"blob:{name}/tree/",
        f"blob:{name}/tree/a.txt",
        f"blob:{name}/tree/sub/",
        f"blob:{name}/tree/sub/b.txt",
    ]
    long = neuro("blob", "ls", "-l", f"blob:{name}/tree/sub/")
    assert "obj" in long.output
    globbed = _lines(neuro("blob", "glob", f"blob:{name}/**/*.txt").output)
    assert globbed == [f"blob:{name}/tree/a.txt", f"blob:{name}/tree/sub/b.txt"]
    usage = neuro("blob", "du", name)
    assert "Objects count: 5" in usage.output  # 2 files, 2 folder markers, the big file

    down = tmp_path / "down"
    assert neuro("blob", "cp", "-r", f"blob:{name}/tree", str(down)).exit_code == 0
    assert (down / "sub" / "b.txt").read_bytes() == b"bb"
    assert neuro("blob", "cp", f"blob:{name}/big.bin", str(tmp_path / "big2")).exit_code == 0
    assert (tmp_path / "big2").read_bytes() == data

    refused = neuro("blob", "rm", f"blob:{name}/tree")
    assert refused.exit_code == 1
    assert _lines(refused.output)[-1].startswith("ERROR:")
    assert neuro("blob", "rm", "-r", f"blob:{name}/tree").exit_code == 0
    assert _lines(neuro("blob", "ls", f"blob:{name}").output) == [f"blob:{name}/big.bin"]


@pytest.mark.usefixtures("logged_in")
def test_sign_url_and_stdin_stdout(
    neuro: NeuroRunner, name: str, neuro_executable: Path, subprocess_env: dict[str, str]
) -> None:
    assert neuro("blob", "mkbucket", "--name", name).exit_code == 0
    piped = neuro("blob", "cp", "/dev/stdin", f"blob:{name}/piped.txt", input="from stdin\n")
    assert piped.exit_code == 0, piped.output
    # /dev/stdout is the process's own: a real process, not click's captured output.
    printed = subprocess.run(
        [
            *(str(neuro_executable), "--neuromation-config", str(neuro.config_dir)),
            *("blob", "cp", f"blob:{name}/piped.txt", "/dev/stdout"),
        ],
        env=subprocess_env,
        capture_output=True,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == b"from stdin\n"
    signed = neuro("blob", "sign-url", "--expires", "10m", f"blob:{name}/piped.txt")
    assert signed.exit_code == 0, signed.output
    with urllib.request.urlopen(signed.output.strip()) as response:
        assert response.read() == b"from stdin\n"


@pytest.mark.usefixtures("logged_in")
def test_credentials_commands(neuro: NeuroRunner, name: str) -> None:
    assert neuro("blob", "mkbucket", "--name", name).exit_code == 0
    made = neuro("blob", "mkcredentials", name, "--name", f"c-{name}", "--read-only")
    assert made.exit_code == 0, made.output
    assert "access_key_id" in made.output
    assert f"c-{name}" in neuro("blob", "lscredentials").output
    assert "Read-only" in neuro("blob", "statcredentials", f"c-{name}").output
    assert neuro("blob", "rmcredentials", f"c-{name}").exit_code == 0
    gone = neuro("blob", "statcredentials", f"c-{name}")
    assert gone.exit_code == 1


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize(
    "args",
    [
        ("blob", "mkbucket", "--name", "Bad_Name"),
        ("blob", "statbucket", "no-such-bucket-here"),
        ("blob", "ls", "blob:no-such-bucket-here/x"),
        ("blob", "cp", "/no/such/local/file", "blob:no-such-bucket-here/x"),
        ("blob", "ls", "storage:folder"),
        ("blob", "sign-url", "--expires", "soon", "blob:x/y"),
    ],
)
def test_bad_input_is_one_error_line(neuro: NeuroRunner, args: tuple[str, ...]) -> None:
    result = neuro(*args)
    assert result.exit_code in (1, 2), result.output
    errors = [line for line in result.output.splitlines() if "Error" in line or "ERROR" in line]
    assert len(errors) == 1, result.output
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("logged_in")
def test_a_directory_needs_r(neuro: NeuroRunner, name: str, tmp_path: Path) -> None:
    assert neuro("blob", "mkbucket", "--name", name).exit_code == 0
    (tmp_path / "d").mkdir()
    result = neuro("blob", "cp", str(tmp_path / "d"), f"blob:{name}/d")
    assert result.exit_code == 1
    assert "use -r" in result.output
