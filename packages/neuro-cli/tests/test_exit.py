"""How the ``neuro`` process ends: exit handlers run and output is flushed before it skips
the interpreter's teardown (see neuro_cli.main.exit_without_teardown)."""

import os
import subprocess
import sys

# The exit handler leaves its line in stdout's buffer, unflushed, as a log handler might.
RUN_NEURO = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stdout.write('exit handler ran\\n'))\n"
    "from neuro_cli.main import main\n"
    "main(sys.argv[1:])\n"
)


def neuro(*args: str, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    # Output to a pipe is block-buffered, as for a user's `neuro ... | less`.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", RUN_NEURO, *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        timeout=60,
    )


def test_output_and_exit_handlers_come_out_before_the_process_ends() -> None:
    result = neuro("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: neuro")
    assert result.stdout.endswith("exit handler ran\n")
    assert result.stderr == ""


def test_a_usage_error_exits_with_its_code_and_message() -> None:
    result = neuro("no-such-command")
    assert result.returncode == 2
    assert result.stderr == ("ERROR: No such command 'no-such-command'. (see 'neuro --help')\n")
    assert result.stdout == "exit handler ran\n"


def test_a_reader_that_went_away_is_no_error() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `neuro ls | head` once head has what it wanted
    try:
        result = neuro("no-such-command", stdout=write_end)
    finally:
        os.close(write_end)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("ERROR: No such command")
