"""The 22.x options of run/ps/status/top that ours lacked (issue #16, CLI part), against our
server and the real dockerd: run -d/-w/-x/-X/--share/--port-forward/--cluster/--org, ps
--distinct/-d/--full-uri/--cluster, status --full-uri, top for several jobs."""

import re
import shlex
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from neuro_cli.main import cli
from neuro_platform.testing.server import PlatformServer

BUSYBOX = "neuro-base/busybox:latest"
Neuro = Callable[..., Result]
JOB_ID = re.compile(r"job-[0-9a-f-]{36}")


@pytest.fixture
def neuro_alice(
    jobs_platform_server: PlatformServer, neuro: Neuro, log_in: Callable[[PlatformServer], str]
) -> Neuro:
    log_in(jobs_platform_server)
    return neuro


@pytest.fixture
def neuro_bob(jobs_platform_server: PlatformServer, tmp_path: Path) -> Neuro:
    config_dir = tmp_path / "bob-config"

    def neuro(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--neuromation-config", str(config_dir), *args])

    token = jobs_platform_server.issue_token("bob")
    login = neuro("config", "login-with-token", token, str(jobs_platform_server.api_url))
    assert login.exit_code == 0, login.output
    return neuro


def job_id_of(result: Result) -> str:
    assert result.exit_code == 0, result.output
    found = JOB_ID.search(result.stdout)
    assert found is not None, result.stdout
    return found.group()


def wait_for_status(neuro: Neuro, job: str, status: str) -> str:
    # No deadline of our own: the per-test timeout stops a job that never gets there.
    while True:
        result = neuro("status", job)
        assert result.exit_code == 0, result.output
        if re.search(rf"Status\s+{status}", result.stdout):
            return str(result.stdout)
        time.sleep(0.2)


def assert_one_line_error(result: Result, message: str, code: int = 1) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ERROR: "), lines
    assert message in lines[0], lines


def test_run_short_options_and_share(neuro_alice: Neuro, neuro_bob: Neuro) -> None:
    # -d is --description (as in 22.x, not --detach), -w --workdir, -X --no-extshm.
    shared = job_id_of(
        neuro_alice(
            "run", "--detach", "-d", "shared job", "-w", "/tmp", "-X", "--share", "bob",
            BUSYBOX, "true",
        )
    )  # fmt: skip
    private = job_id_of(neuro_alice("run", "--detach", "-x", BUSYBOX, "true"))

    status = wait_for_status(neuro_alice, shared, "succeeded")
    assert re.search(r"Description\s+shared job", status)
    assert re.search(r"Working dir\s+/tmp", status)
    assert "extended /dev/shm" not in status
    assert "extended /dev/shm" in wait_for_status(neuro_alice, private, "succeeded")
    # --share gave bob the job; the other stays alice's alone.
    assert neuro_bob("status", shared).exit_code == 0
    assert neuro_bob("status", private).exit_code != 0


def test_run_port_forward_serves_the_job_port_locally(
    jobs_platform_server: PlatformServer,
    config_dir: Path,
    log_in: Callable[[PlatformServer], str],
    neuro_alice: Neuro,
    neuro_executable: Path,
    subprocess_env: dict[str, str],
    unused_tcp_port: int,
) -> None:
    server = "mkdir /w && echo forwarded > /w/index.html && httpd -f -p 8080 -h /w"
    argv = [str(neuro_executable), "--neuromation-config", str(config_dir), "run"]
    argv += ["--no-tty", "-n", "forwarded", "--port-forward", f"{unused_tcp_port}:8080"]
    process = subprocess.Popen(
        [*argv, BUSYBOX, "sh", "-c", server], env=subprocess_env, stdout=subprocess.DEVNULL
    )
    try:
        body = fetch_when_served(f"http://127.0.0.1:{unused_tcp_port}/", process)
        assert body == "forwarded\n"
    finally:
        neuro_alice("kill", "forwarded")
        process.wait()


def fetch_when_served(url: str, process: "subprocess.Popen[bytes]") -> str:
    while True:
        assert process.poll() is None, "neuro run ended before the port was served"
        try:
            with urllib.request.urlopen(url) as response:
                return str(response.read().decode())
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)


@pytest.fixture
def unused_tcp_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--port-forward", "8080", BUSYBOX, "true"), "Invalid port pair '8080'"),
        (("run", "--port-forward", "1:99999", BUSYBOX, "true"), "Invalid port pair"),
        (("run", "--cluster", "no-such-cluster", BUSYBOX, "true"), "no-such-cluster"),
        (("ps", "--cluster", "no-such-cluster"), "no-such-cluster"),
    ],
)
def test_bad_run_and_ps_options_are_one_line(
    neuro_alice: Neuro, args: tuple[str, ...], message: str
) -> None:
    assert_one_line_error(neuro_alice(*args), message)
    # None of them started a job.
    assert JOB_ID.search(neuro_alice("ps", "-a", "-n", "never").stdout) is None


def test_ps_distinct_description_and_full_uri(neuro_alice: Neuro) -> None:
    assert neuro_alice("mkdir", "-p", "storage:parity").exit_code == 0
    volume = ["-v", "storage:parity:/data"]
    first = job_id_of(neuro_alice("run", "-n", "twice", "-d", "the one", *volume, BUSYBOX, "true"))
    second = job_id_of(neuro_alice("run", "-n", "twice", "-d", "other", BUSYBOX, "true"))

    both = neuro_alice("ps", "-a", "-n", "twice", "--format", "id")
    assert {first, second} <= set(JOB_ID.findall(both.stdout))
    distinct = neuro_alice("ps", "-a", "-n", "twice", "--distinct", "--format", "id")
    assert len(JOB_ID.findall(distinct.stdout)) == 1, distinct.output
    described = neuro_alice("ps", "-a", "-d", "the one", "--cluster", "default", "--format", "id")
    assert JOB_ID.findall(described.stdout) == [first]

    short = neuro_alice("status", first)
    assert "storage:parity -> /data" in short.stdout
    full = neuro_alice("status", "--full-uri", first)
    assert "storage://default/alice/parity -> /data" in full.stdout


def test_iso_datetime_format(neuro_alice: Neuro) -> None:
    job = job_id_of(neuro_alice("run", BUSYBOX, "true"))
    iso = neuro_alice("--iso-datetime-format", "status", job)
    assert re.search(r"Created\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", iso.stdout), iso.stdout
    plain = neuro_alice("status", job)
    assert re.search(r"Created\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s", plain.stdout), plain.stdout


def test_attach_port_forward(
    config_dir: Path,
    neuro_alice: Neuro,
    neuro_executable: Path,
    subprocess_env: dict[str, str],
    unused_tcp_port: int,
) -> None:
    server = "mkdir /w && echo attached > /w/index.html && httpd -f -p 8080 -h /w"
    job = job_id_of(neuro_alice("run", "--detach", BUSYBOX, "sh", "-c", server))
    wait_for_status(neuro_alice, job, "running")
    argv = [str(neuro_executable), "--neuromation-config", str(config_dir), "attach"]
    process = subprocess.Popen(
        [*argv, "--port-forward", f"{unused_tcp_port}:8080", job],
        env=subprocess_env,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert fetch_when_served(f"http://127.0.0.1:{unused_tcp_port}/", process) == "attached\n"
    finally:
        neuro_alice("kill", job)
        process.wait()
    bad = neuro_alice("attach", "--port-forward", "x:1", job)
    assert_one_line_error(bad, "Invalid port pair 'x:1'")


def test_generate_run_makes_the_same_job(neuro_alice: Neuro) -> None:
    first = job_id_of(
        neuro_alice(
            "run", "-n", "again", "--tag", "t1", "-d", "it's quoted", "-e", "A=1 2",
            "-w", "/tmp", "--life-span", "2h30m", "--restart", "on-failure", "-X",
            BUSYBOX, "sh", "-c", 'echo "A=$A in $(pwd)"',
        )
    )  # fmt: skip
    generated = neuro_alice("job", "generate-run", first)
    assert generated.exit_code == 0, generated.output
    argv = shlex.split(generated.stdout)
    assert argv[:2] == ["neuro", "run"]

    second = job_id_of(neuro_alice("run", *argv[2:]))

    def details(job: str) -> list[str]:
        status = wait_for_status(neuro_alice, job, "succeeded")
        skip = ("Job ", "Created", "Started", "Finished", "Internal hostname")
        return [line.rstrip() for line in status.splitlines() if not line.startswith(skip)]

    assert details(second) == details(first)
    assert neuro_alice("logs", second).stdout == "A=1 2 in /tmp\n"
    missing = neuro_alice("job", "generate-run", "no-such-job")
    assert_one_line_error(missing, "no-such-job")


def test_browse_opens_the_job_url(
    neuro_alice: Neuro, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    served = job_id_of(neuro_alice("run", "--detach", "--http-port", "8080", BUSYBOX, "true"))
    plain = job_id_of(neuro_alice("run", "--detach", BUSYBOX, "true"))
    status = wait_for_status(neuro_alice, served, "succeeded")
    url = re.search(r"Http URL\s+(\S+)", status)
    assert url is not None

    assert neuro_alice("job", "browse", served).exit_code == 0
    assert opened.read_text().strip() == url.group(1)
    assert_one_line_error(neuro_alice("job", "browse", plain), "has no HTTP URL")
