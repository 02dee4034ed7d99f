"""``neuro ps -a`` and ``neuro ls -l`` against the real server behind a loopback proxy that
holds back, or cuts, the listing's answer part way through."""

import asyncio
import contextlib
import socket
import sqlite3
import subprocess
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from neuro_platform.orchestrator.testing import build_base_image, remove_instance_containers
from neuro_platform.testing.fixtures import USERS
from neuro_platform.testing.server import DATABASE_FILE, PlatformServer, running_jobs_platform

from .conftest import NeuroRunner

BUSYBOX = "neuro-base/busybox:latest"
# Enough for neuro ps to print more than one chunk (formatters/streamed.py: CHUNK_ROWS).
JOBS = 1200
# A generous bound on waiting for the CLI, so that a broken build fails instead of hanging.
PATIENCE_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Proxy:
    """Forwards loopback TCP to ``target``; once a request containing ``trigger`` passed,
    it forwards ``hold_after`` bytes of the answer, then holds the rest until ``release``
    (or, with ``cut``, closes the connection there)."""

    target: int = 0
    port: int = field(default_factory=free_port)
    trigger: bytes = b"\x00never"
    hold_after: int = 0
    cut: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    held: threading.Event = field(default_factory=threading.Event)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target)
        armed = asyncio.Event()

        async def upstream() -> None:
            while data := await client_r.read(65536):
                if self.trigger in data:
                    armed.set()
                server_w.write(data)
                await server_w.drain()
            server_w.close()

        async def downstream() -> None:
            sent = 0
            while data := await server_r.read(65536):
                if armed.is_set() and sent + len(data) > self.hold_after:
                    head, data = data[: self.hold_after - sent], data[self.hold_after - sent :]
                    client_w.write(head)
                    await client_w.drain()
                    self.held.set()
                    if self.cut:
                        client_w.transport.abort()
                        server_w.transport.abort()
                        return
                    await asyncio.to_thread(self.release.wait)
                if armed.is_set():
                    sent += len(data)
                client_w.write(data)
                await client_w.drain()
            client_w.close()

        with contextlib.suppress(ConnectionError):
            await asyncio.gather(upstream(), downstream())

    @contextlib.contextmanager
    def running(self) -> Iterator["Proxy"]:
        loop = asyncio.new_event_loop()
        started = threading.Event()

        async def main() -> None:
            server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
            started.set()
            async with server:
                await server.serve_forever()

        def run() -> None:
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(main())

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        started.wait()
        try:
            yield self
        finally:
            self.release.set()
            for task in asyncio.all_tasks(loop):
                loop.call_soon_threadsafe(task.cancel)
            thread.join()
            loop.close()


@pytest.fixture(scope="module")
def proxied_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[PlatformServer, Proxy]]:
    """A server whose public URL (what the CLI is told to use) is a proxy in front of it."""
    build_base_image("busybox")
    proxy = Proxy()
    instance = f"test-{uuid.uuid4().hex[:12]}"
    with (
        proxy.running(),
        running_jobs_platform(
            tmp_path_factory.mktemp("streamed"),
            instance,
            users=USERS,
            config={"server": {"public_url": f"http://127.0.0.1:{proxy.port}"}},
        ) as server,
    ):
        assert server.base_url.port is not None
        proxy.target = server.base_url.port
        yield server, proxy
    remove_instance_containers(instance)


@pytest.fixture
def proxy(proxied_server: tuple[PlatformServer, Proxy]) -> Iterator[Proxy]:
    proxy = proxied_server[1]
    yield proxy
    proxy.trigger, proxy.cut = b"\x00never", False
    proxy.release.set()
    proxy.held.clear()


def run_cli(
    executable: Path, env: dict[str, str], config_dir: Path, *args: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(executable), "--neuromation-config", str(config_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def log_in_through(proxy: Proxy, server: PlatformServer, neuro: NeuroRunner) -> str:
    """Log the CLI in at the proxy's address: all its requests then go through the proxy."""
    token = server.issue_token("alice")
    api_url = f"http://127.0.0.1:{proxy.port}/api/v1"
    result = neuro("config", "login-with-token", token, api_url)
    assert result.exit_code == 0, result.output
    return token


def read_lines(cli: subprocess.Popen[str], count: int) -> list[str]:
    """The first ``count`` lines ``cli`` prints; none if it prints fewer or exits first."""
    lines: list[str] = []

    def read() -> None:
        assert cli.stdout is not None
        while len(lines) < count and (line := cli.stdout.readline()):
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(PATIENCE_S)
    if reader.is_alive():
        cli.kill()
        pytest.fail(f"neuro printed {len(lines)} lines while the listing was held back")
    return lines


def add_finished_jobs(server: PlatformServer, neuro: NeuroRunner, count: int) -> list[str]:
    """``count`` cancelled jobs: one submitted and killed through the CLI, the rest copies of
    its row (submitting a thousand jobs through the API would take minutes here)."""
    run = neuro("run", "--detach", BUSYBOX, "true")
    assert run.exit_code == 0, run.output
    job_id = next(word for word in run.output.split() if word.startswith("job-"))
    assert neuro("kill", job_id).exit_code == 0
    with contextlib.closing(sqlite3.connect(server.data_dir / DATABASE_FILE)) as db, db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(jobs)")]
        ids = [f"job-{uuid.uuid4()}" for _ in range(count - 1)]
        select = ", ".join(
            "?" if name == "id" else "0" if name == "materialized" else name for name in columns
        )
        db.executemany(
            f"INSERT INTO jobs ({', '.join(columns)}) SELECT {select} FROM jobs WHERE id = ?",
            [(new_id, job_id) for new_id in ids],
        )
    return [job_id, *ids]


def listing_size(server: PlatformServer, token: str) -> int:
    request = urllib.request.Request(
        str(server.api_url / "jobs" % {"cluster_name": "default"}),
        headers={"Authorization": f"Bearer {token}", "Accept": "application/x-ndjson"},
    )
    with urllib.request.urlopen(request) as response:
        return len(response.read())


@pytest.mark.docker
def test_ps_prints_the_first_rows_while_the_rest_is_held_back(
    proxied_server: tuple[PlatformServer, Proxy],
    proxy: Proxy,
    neuro: NeuroRunner,
    neuro_executable: Path,
    subprocess_env: dict[str, str],
) -> None:
    server = proxied_server[0]
    token = log_in_through(proxy, server, neuro)
    ids = add_finished_jobs(server, neuro, JOBS)
    # Hold the answer back once most of it (more than the first chunk of rows) went out.
    proxy.trigger, proxy.hold_after = b"GET /api/v1/jobs?", listing_size(server, token) * 9 // 10
    proxy.release.clear()

    args = ("ps", "-a", "--format", "id")
    with run_cli(neuro_executable, subprocess_env, neuro.config_dir, *args) as cli:
        # The proxy sends the rest only once released, after these lines were read: they
        # were printed before the last jobs had arrived.
        printed = read_lines(cli, 10)
        assert proxy.held.wait(PATIENCE_S)
        proxy.release.set()
        # Read on from the same buffered stream (communicate() would skip what it buffered).
        assert cli.stdout is not None
        assert cli.stderr is not None
        rest, errors = cli.stdout.read(), cli.stderr.read()
        cli.wait(PATIENCE_S)

    assert cli.returncode == 0, errors
    assert printed[0].split() == ["ID"]
    assert len(printed) == 10
    listed = {line.strip() for line in [*printed, *rest.splitlines()]}
    assert set(ids) <= listed


@pytest.mark.docker
def test_ls_long_cut_midway_is_one_error_line(
    proxied_server: tuple[PlatformServer, Proxy],
    proxy: Proxy,
    neuro: NeuroRunner,
    neuro_executable: Path,
    subprocess_env: dict[str, str],
) -> None:
    server = proxied_server[0]
    log_in_through(proxy, server, neuro)
    folder = server.data_dir / "storage" / "default" / "alice" / "many"
    folder.mkdir(parents=True)
    for index in range(3000):
        (folder / f"file-{index:05d}.txt").write_bytes(b"x")
    proxy.trigger, proxy.hold_after, proxy.cut = b"op=LISTSTATUS", 20_000, True

    with run_cli(
        neuro_executable, subprocess_env, neuro.config_dir, "ls", "-l", "storage:many"
    ) as cli:
        out, errors = cli.communicate(timeout=PATIENCE_S)

    assert proxy.held.is_set()
    assert cli.returncode == 1
    assert "Traceback" not in errors
    assert len(errors.splitlines()) == 1, errors
    assert errors.startswith("ERROR: ")
    assert "file-02999" not in out


@pytest.mark.docker
def test_ps_cut_midway_is_one_error_line_after_the_rows_so_far(
    proxied_server: tuple[PlatformServer, Proxy],
    proxy: Proxy,
    neuro: NeuroRunner,
    neuro_executable: Path,
    subprocess_env: dict[str, str],
) -> None:
    server = proxied_server[0]
    token = log_in_through(proxy, server, neuro)
    if listing_size(server, token) < 10_000:
        add_finished_jobs(server, neuro, JOBS)
    proxy.trigger, proxy.hold_after, proxy.cut = (
        b"GET /api/v1/jobs?",
        listing_size(server, token) * 9 // 10,
        True,
    )

    args = ("ps", "-a", "--format", "id")
    with run_cli(neuro_executable, subprocess_env, neuro.config_dir, *args) as cli:
        out, errors = cli.communicate(timeout=PATIENCE_S)

    assert proxy.held.is_set()
    assert cli.returncode == 1
    assert "Traceback" not in errors
    assert len(errors.splitlines()) == 1, errors
    assert errors.startswith("ERROR: ")
    assert out.splitlines()[0].split() == ["ID"]  # the rows that arrived were printed
    assert len(out.splitlines()) > 500
