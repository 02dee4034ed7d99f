"""neuro exec / attach / port-forward / run -t as a user runs them: the installed console
script in real processes (a pseudo-terminal where a terminal matters), our real server and
dockerd."""

import concurrent.futures
import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from neuro_platform.orchestrator.testing import build_base_image
from neuro_platform.testing.server import PlatformServer

BUSYBOX = "neuro-base/busybox:latest"
JOB_ID = re.compile(r"job-[0-9a-f-]{36}")
Neuro = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture
def server(jobs_platform_server: PlatformServer) -> PlatformServer:
    return jobs_platform_server


@pytest.fixture
def argv(
    server: PlatformServer,
    neuro_executable: Path,
    config_dir: Path,
    log_in: Callable[[PlatformServer], str],
) -> list[str]:
    log_in(server)
    return [str(neuro_executable), "--neuromation-config", str(config_dir)]


@pytest.fixture
def cli(argv: list[str], subprocess_env: dict[str, str]) -> Neuro:
    def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [*argv, *args], input=stdin, capture_output=True, env=subprocess_env, timeout=90
        )

    return run


def start_job(cli: Neuro, *args: str) -> str:
    result = cli("run", "--detach", *args)
    assert result.returncode == 0, result.stderr
    found = JOB_ID.search(result.stdout.decode())
    assert found is not None, result.stdout
    while b"running" not in cli("status", found.group()).stdout:
        time.sleep(0.2)
    return found.group()


@pytest.mark.both_orchestrators
def test_exec_pipes_stdin_and_returns_the_exit_code(cli: Neuro) -> None:
    job_id = start_job(cli, BUSYBOX, "sleep", "300")

    echoed = cli("exec", job_id, "cat", stdin=b"piped in\n")
    assert echoed.returncode == 0, echoed.stderr
    assert echoed.stdout == b"piped in\n"

    failed = cli("exec", job_id, "--", "sh", "-c", "echo out; echo err >&2; exit 4")
    assert failed.returncode == 4
    assert failed.stdout == b"out\n"
    assert failed.stderr == b"err\n"
    cli("kill", job_id)


def test_ctrl_c_ends_a_non_tty_exec_cleanly(
    cli: Neuro, argv: list[str], subprocess_env: dict[str, str]
) -> None:
    job_id = start_job(cli, BUSYBOX, "sleep", "300")
    command = [*argv, "exec", "--no-tty", job_id, "--", "sh", "-c", "echo ready; sleep 300"]
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env,
    ) as execution:
        assert execution.stdout is not None
        assert execution.stderr is not None
        assert execution.stdout.readline() == b"ready\n"
        execution.send_signal(signal.SIGINT)
        assert execution.wait(timeout=30) == 130
        assert b"Traceback" not in execution.stderr.read()
    assert b"running" in cli("status", job_id).stdout  # only the local side ended
    cli("kill", job_id)


class Terminal:
    """`neuro` on the slave side of a pseudo-terminal; the test types on the master."""

    def __init__(self, args: list[str], env: dict[str, str], rows: int, columns: int) -> None:
        self.master, slave = pty.openpty()
        self.resize(rows, columns)
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.seen = b""

    def resize(self, rows: int, columns: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def type(self, text: bytes) -> None:
        os.write(self.master, text)

    def read_until(self, needle: bytes) -> bytes:
        while needle not in self.seen:
            self.read_more(needle)
        return self.seen

    def read_more(self, awaited: bytes) -> None:
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: every slave end closed
            chunk = b""
        if not chunk:
            raise AssertionError(f"{awaited!r} never came; got {self.seen!r}")
        self.seen += chunk

    def wait(self) -> int:
        code = self.process.wait(timeout=60)
        os.close(self.master)
        return code


@pytest.mark.both_orchestrators
def test_exec_tty_follows_the_local_terminal_size(
    cli: Neuro, argv: list[str], subprocess_env: dict[str, str]
) -> None:
    job_id = start_job(cli, BUSYBOX, "sleep", "300")
    # No interactive shell: busybox's line editor waits for answers a pty does not give.
    script = "while read line; do stty size; done; exit 3"
    terminal = Terminal([*argv, "exec", job_id, "sh", "-c", script], subprocess_env, 31, 97)

    terminal.type(b"\r")
    terminal.read_until(b"31 97")
    terminal.resize(42, 120)
    terminal.process.send_signal(signal.SIGWINCH)
    # The new size travels beside the typing: ask until it has arrived.
    while b"42 120" not in terminal.seen:
        terminal.type(b"\r")
        terminal.read_more(b"42 120")
    terminal.type(b"\x04")  # Ctrl-D: EOF for `read` on the job's terminal
    assert terminal.wait() == 3


@pytest.mark.both_orchestrators
def test_run_with_a_tty_attaches_to_the_job(
    argv: list[str], subprocess_env: dict[str, str]
) -> None:
    script = "read answer; echo got $answer; exit 6"
    terminal = Terminal([*argv, "run", "-t", BUSYBOX, "sh", "-c", script], subprocess_env, 24, 80)

    terminal.type(b"hello\r")
    terminal.read_until(b"got hello")
    assert terminal.wait() == 6


@pytest.mark.both_orchestrators
def test_attach_follows_a_jobs_output_to_its_end(
    cli: Neuro, argv: list[str], subprocess_env: dict[str, str]
) -> None:
    # The job talks until told to stop, so attaching never races its end (a job that ends
    # after a fixed sleep may be over before a slow attach has connected).
    script = "while [ ! -e /tmp/stop ]; do echo attached; sleep 0.2; done; echo bye; exit 5"
    job_id = start_job(cli, BUSYBOX, "sh", "-c", script)

    with subprocess.Popen(
        [*argv, "attach", job_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env,
    ) as attached:
        assert attached.stdout is not None
        assert attached.stdout.readline() == b"attached\n"
        assert cli("exec", job_id, "touch", "/tmp/stop").returncode == 0
        rest = attached.stdout.read()
        assert attached.wait(timeout=60) == 5
    assert set(rest.splitlines()) <= {b"attached", b"bye"}
    assert rest.endswith(b"bye\n")


@pytest.mark.both_orchestrators
def test_port_forward_serves_http_on_several_local_ports(
    cli: Neuro, argv: list[str], subprocess_env: dict[str, str]
) -> None:
    debian = build_base_image("debian")
    job_id = start_job(
        cli,
        debian,
        "--",
        "bash",
        "-c",
        "mkdir -p /srv && head -c 1500000 /dev/urandom > /srv/big && cd /srv"
        " && exec python3 -m http.server 8000",
    )
    ports = [free_port(), free_port()]
    with subprocess.Popen(
        [*argv, "port-forward", job_id, *(f"{port}:8000" for port in ports)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env,
    ) as forwarding:
        assert forwarding.stdout is not None
        while b"Press ^C" not in forwarding.stdout.readline():
            pass

        urls = [f"http://127.0.0.1:{port}/big" for port in ports] * 6
        wait_until_served(urls[0])
        with concurrent.futures.ThreadPoolExecutor(len(urls)) as pool:
            bodies = list(pool.map(fetch, urls))
        assert {len(body) for body in bodies} == {1_500_000}
        assert len(set(bodies)) == 1

        forwarding.send_signal(signal.SIGINT)
        assert forwarding.wait(timeout=30) != 0
    with pytest.raises(urllib.error.URLError, match="refused"):
        urllib.request.urlopen(urls[0], timeout=10)
    cli("kill", job_id)


def test_port_forward_refuses_a_malformed_port_pair(cli: Neuro) -> None:
    result = cli("port-forward", "job-00000000-0000-0000-0000-000000000000", "80")
    assert result.returncode != 0
    assert b"LOCAL_PORT:REMOTE_PORT" in result.stderr


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        body: bytes = response.read()
        return body


def wait_until_served(url: str) -> None:
    """The job's server may still be starting: until then the connection just closes."""
    while True:
        try:
            fetch(url)
            return
        except OSError:
            time.sleep(0.2)
