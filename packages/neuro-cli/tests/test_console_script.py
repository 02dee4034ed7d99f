"""The installed ``neuro`` console script as a user runs it: real processes, exit codes,
stderr, the interactive login flows and Ctrl-C."""

import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from neuro_platform.testing.server import PlatformServer

SignIn = Callable[[str, str, str], str]
ReadCode = Callable[[str], str]


@pytest.fixture
def platform_server(shared_platform_server: PlatformServer) -> PlatformServer:
    """These tests keep their state in their own config dirs and only log in: one server will do."""
    return shared_platform_server


class NeuroProcess:
    """A running ``neuro`` whose output is read line by line while it waits for input."""

    def __init__(self, executable: Path, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [str(executable), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.transcript: list[str] = []

    def read_until(self, prefix: str) -> str:
        """Read stdout lines up to and including the first one starting with ``prefix``."""
        assert self.process.stdout is not None
        while line := self.process.stdout.readline():
            self.transcript.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"neuro ended before printing {prefix!r}: {self.transcript}")

    def finish(self, stdin: str = "") -> tuple[int, str, str]:
        """Type ``stdin``, close it, wait; returns the exit code, all stdout and stderr."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self.process.stdin.write(stdin)
        self.process.stdin.close()
        # Through the same reader as read_until: it may hold output read ahead.
        self.transcript.append(self.process.stdout.read())
        stderr = self.process.stderr.read()
        return self.process.wait(timeout=60), "".join(self.transcript), stderr

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def start_neuro(
    neuro_executable: Path, subprocess_env: dict[str, str], config_dir: Path
) -> Iterator[Callable[..., NeuroProcess]]:
    started: list[NeuroProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> NeuroProcess:
        process = NeuroProcess(
            neuro_executable,
            env or subprocess_env,
            "--neuromation-config",
            str(config_dir),
            *args,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def run_neuro(start: Callable[..., NeuroProcess], *args: str) -> tuple[int, str, str]:
    return start(*args).finish()


def authorize_url(open_line: str) -> str:
    prefix, suffix = "Open ", " in a browser\n"
    assert open_line.startswith(prefix), open_line
    assert open_line.endswith(suffix), open_line
    return open_line[len(prefix) : -len(suffix)]


def test_exit_codes_and_stderr(start_neuro: Callable[..., NeuroProcess]) -> None:
    assert run_neuro(start_neuro, "config", "show") == (
        1,
        "",
        "ERROR: You are not logged in; run 'neuro login' first\n",
    )
    code, _, stderr = run_neuro(start_neuro, "config", "switch-cluster", "a", "b")
    assert code == 2
    assert stderr.startswith("ERROR: Got unexpected extra argument (b)")
    assert run_neuro(start_neuro, "--version")[0] == 0


def test_bad_token_fails_without_traceback(
    start_neuro: Callable[..., NeuroProcess], platform_server: PlatformServer
) -> None:
    code, stdout, stderr = run_neuro(
        start_neuro, "config", "login-with-token", "not-a-jwt", str(platform_server.api_url)
    )

    assert code == 1
    assert stdout == ""
    assert len(stderr.splitlines()) == 1
    assert stderr.startswith("ERROR: ")
    assert "Traceback" not in stderr


def test_login_headless_with_the_code_from_the_page(
    start_neuro: Callable[..., NeuroProcess],
    platform_server: PlatformServer,
    sign_in: SignIn,
    read_code: ReadCode,
) -> None:
    neuro = start_neuro("config", "login-headless", str(platform_server.api_url))
    url = authorize_url(neuro.read_until("Open "))
    neuro.read_until("Put the code displayed in a browser after successful login")
    code = read_code(sign_in(url, "alice", "alice-password"))

    returncode, stdout, stderr = neuro.finish(code + "\n")

    assert returncode == 0, stderr
    assert "\nCode (empty for exit)-> Logged into " in stdout
    assert f"Logged into {platform_server.api_url} as alice" in stdout
    assert run_neuro(start_neuro, "config", "show")[1].count("alice") == 1


def test_login_headless_empty_code_cancels(
    start_neuro: Callable[..., NeuroProcess], platform_server: PlatformServer, config_dir: Path
) -> None:
    neuro = start_neuro("config", "login-headless", str(platform_server.api_url))
    neuro.read_until("Open ")

    returncode, _, stderr = neuro.finish("\n")

    assert returncode == 1
    assert stderr == "ERROR: Login cancelled: no code was entered\n"
    assert not (config_dir / "db").exists()


def test_login_headless_end_of_input_aborts(
    start_neuro: Callable[..., NeuroProcess], platform_server: PlatformServer
) -> None:
    neuro = start_neuro("config", "login-headless", str(platform_server.api_url))

    returncode, _, stderr = neuro.finish("")

    assert returncode == 1
    assert stderr == "ERROR: Aborted\n"


def test_login_without_a_browser_falls_back_to_headless(
    start_neuro: Callable[..., NeuroProcess],
    platform_server: PlatformServer,
    sign_in: SignIn,
    read_code: ReadCode,
) -> None:
    # subprocess_env points $BROWSER at a command that does not exist.
    neuro = start_neuro("login", str(platform_server.api_url))
    assert neuro.read_until("No web browser") == (
        "No web browser could be opened, logging in without one.\n"
    )
    url = authorize_url(neuro.read_until("Open "))
    code = read_code(sign_in(url, "bob", "bob-password"))

    returncode, stdout, stderr = neuro.finish(code + "\n")

    assert returncode == 0, stderr
    assert f"Logged into {platform_server.api_url} as bob" in stdout


def test_login_in_the_browser(
    start_neuro: Callable[..., NeuroProcess],
    platform_server: PlatformServer,
    subprocess_env: dict[str, str],
    sign_in_browser: Path,
) -> None:
    # The "browser" signs in as alice on the real login page and follows the redirect
    # to the CLI's local callback, as a person at a browser would.
    env = {**subprocess_env, "BROWSER": str(sign_in_browser)}

    returncode, stdout, stderr = start_neuro(
        "login", str(platform_server.api_url), env=env
    ).finish()

    assert returncode == 0, stderr
    assert stdout == (
        f"Logged into {platform_server.api_url} as alice, current cluster is default, "
        "org is <no-org>\n"
    )


def test_ctrl_c_at_the_code_prompt_exits_130(
    start_neuro: Callable[..., NeuroProcess], platform_server: PlatformServer, config_dir: Path
) -> None:
    neuro = start_neuro("config", "login-headless", str(platform_server.api_url))
    neuro.read_until("Put the code")

    neuro.process.send_signal(signal.SIGINT)
    returncode, _, stderr = neuro.finish()

    assert returncode == 130
    # Nothing but the newline that ends the interrupted prompt line: no traceback, no
    # complaint from a thread still waiting for input.
    assert stderr == "\n"
    assert not (config_dir / "db").exists()
