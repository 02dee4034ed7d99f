"""`running_platform`: our server on a free loopback port, in a process of its own (`forked.py`)."""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import shutil
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

import tomli_w
import yarl

from ..admin import Admin, run_admin
from ..data_dir import prepare_data_dir
from ..orchestrator.testing import remove_instance_containers
from ..settings import CommandLineOverrides, Settings, load_settings
from .cli_in_process import run_cli
from .forked import start_server

T = TypeVar("T")

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.05
PORT_ATTEMPTS = 3  # a free port picked, then taken by another process before the server binds it
DATABASE_FILE = "platform.db"  # the default SQLite database in the data dir (settings.py)


class PlatformStartError(RuntimeError):
    pass


class PortTakenError(PlatformStartError):
    """Another process took the port picked for the server before the server bound it (the
    port was free when picked): the server exited, and another server answered meanwhile."""


@dataclass
class PlatformServer:
    base_url: yarl.URL
    api_url: yarl.URL
    data_dir: Path
    config_file: Path
    # What the server prints (its access log included).
    log_file: Path | None = None

    def create_user(self, name: str, password: str) -> None:
        """Same code path as `neuro-platform admin user add`, run in-process for speed."""
        _run_admin(self.settings(), lambda admin: admin.add_user(name, password))

    def issue_token(self, name: str, *, ttl_s: int | None = None) -> str:
        """Same code path as `neuro-platform admin token issue`, run in-process for speed."""
        return _run_admin(self.settings(), lambda admin: admin.issue_token(name, ttl_s)).token

    def settings(self) -> Settings:
        return load_settings(
            self.config_file,
            env=_clean_env(),
            overrides=CommandLineOverrides(data_dir=self.data_dir),
        )

    def admin(self, *args: str) -> str:
        """Runs `neuro-platform admin ARGS` against this server's data; returns its stdout.
        In this process (`cli_in_process.py` says why)."""
        config, data_dir = str(self.config_file), str(self.data_dir)
        command = ["admin", "--config", config, "--data-dir", data_dir, *args]
        result = run_cli(command, env=_clean_env())
        if result.returncode != 0:
            raise RuntimeError(f"neuro-platform admin {' '.join(args)} failed: {result.stderr}")
        return result.stdout


@contextlib.contextmanager
def running_jobs_platform(
    tmp_path: Path,
    instance: str,
    *,
    config: Mapping[str, Any] | None = None,
    users: Mapping[str, str] | None = None,
) -> Iterator[PlatformServer]:
    """`running_platform` whose jobs run as orchestrator instance `instance`, and whose
    containers are all removed when it stops: the platform leaves jobs running when it
    stops, since it adopts them again after a restart, but a test's jobs must not outlive
    the test."""
    settings: dict[str, Any] = {"jobs": {"orchestrator_instance": instance}}
    _deep_merge(settings, config or {})
    try:
        with running_platform(tmp_path, config=settings, users=users) as server:
            yield server
    finally:
        remove_instance_containers(instance)


@contextlib.contextmanager
def running_platform(
    tmp_path: Path,
    *,
    config: Mapping[str, Any] | None = None,
    database_url: str | None = None,
    users: Mapping[str, str] | None = None,
) -> Iterator[PlatformServer]:
    """`users` (name -> password) are created before the server starts, which is quicker."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    data_dir = tmp_path / "platform-data"
    config_file = tmp_path / "platform.toml"
    settings: dict[str, Any] = {"server": {"host": "127.0.0.1"}}
    if database_url is not None:
        settings["database"] = {"url": database_url}
    _deep_merge(settings, config or {})
    log_path = tmp_path / "platform.log"

    def on_a_free_port() -> PlatformServer:
        port = _free_port()
        settings["server"]["port"] = port
        config_file.write_text(tomli_w.dumps(settings))
        base_url = yarl.URL.build(scheme="http", host="127.0.0.1", port=port)
        return PlatformServer(base_url, base_url / "api/v1", data_dir, config_file, log_path)

    server = on_a_free_port()
    if users and "database" not in settings and not (data_dir / DATABASE_FILE).exists():
        _copy_users_database(users, data_dir)
    else:
        for name, password in (users or {}).items():
            server.create_user(name, password)
    with _serving(server, on_a_free_port) as (serving_server, _):
        yield serving_server


@dataclass
class ServerProcess:
    server: PlatformServer
    process: BaseProcess  # for a test that kills it


@contextlib.contextmanager
def serving(log_dir: Path, name: str, data_dir: Path, config_file: Path) -> Iterator[ServerProcess]:
    """One more `serve` of a config file and data dir, on a port of its own: several
    processes on one PostgreSQL database share both (docs/scale-out.md). Its log is
    `log_dir/<name>.log`."""
    log_path = log_dir / f"{name}.log"

    def on_a_free_port() -> PlatformServer:
        base_url = yarl.URL.build(scheme="http", host="127.0.0.1", port=_free_port())
        return PlatformServer(base_url, base_url / "api/v1", data_dir, config_file, log_path)

    with _serving(on_a_free_port(), on_a_free_port, port_option=True) as (server, process):
        yield ServerProcess(server, process)


@contextlib.contextmanager
def _serving(
    server: PlatformServer, elsewhere: Callable[[], PlatformServer], *, port_option: bool = False
) -> Iterator[tuple[PlatformServer, BaseProcess]]:
    """`serve` of the server's config and data dir, until the block ends; its log printed
    when the block fails. A server whose port another process took before it bound it is
    started again as `elsewhere()` makes it, on another free port (its config file says
    which, or `--port` with `port_option`)."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        assert server.log_file is not None
        port = ["--port", str(server.base_url.port)] if port_option else []
        config, data_dir = str(server.config_file), str(server.data_dir)
        args = ["serve", "--config", config, "--data-dir", data_dir, *port]
        logged = server.log_file.stat().st_size if server.log_file.exists() else 0
        process = start_server(args, _clean_env(), server.log_file)
        try:
            _wait_until_ready(process, server.api_url / "ping", server.log_file, logged)
            break
        except PortTakenError:
            _stop(process)
            if attempt == PORT_ATTEMPTS:
                _print_log(server)
                raise
            server = elsewhere()
        except BaseException:
            _print_log(server)
            _stop(process)
            raise
    try:
        yield server, process
    except BaseException:
        _print_log(server)
        raise
    finally:
        _stop(process)


def _print_log(server: PlatformServer) -> None:
    assert server.log_file is not None
    log = server.log_file.read_text()
    sys.stderr.write(f"--- platform server log ({server.log_file}) ---\n{log}\n")


# A SQLite database holding just these users (name -> password), per set of users.
_users_databases: dict[frozenset[tuple[str, str]], Path] = {}


def _copy_users_database(users: Mapping[str, str], data_dir: Path) -> None:
    """Gives a new data dir a copy of a database in which `create_user` made `users`.

    Creating them anew for each server (migrations, then an argon2 hash each) took a third of
    a server's start; the copy is what the same calls would have written, but for the
    accounts' random ids, which only have to differ between accounts, not between servers.
    """
    key = frozenset(users.items())
    template = _users_databases.get(key)
    if template is None:
        root = tempfile.mkdtemp(prefix="neuro-users-")
        atexit.register(shutil.rmtree, root, True)
        template_data_dir = Path(root) / "platform-data"
        settings = load_settings(
            None, env=_clean_env(), overrides=CommandLineOverrides(data_dir=template_data_dir)
        )

        async def add_users(admin: Admin) -> None:
            for name, password in users.items():
                await admin.add_user(name, password)

        _run_admin(settings, add_users)
        template = _users_databases[key] = template_data_dir / DATABASE_FILE
    prepare_data_dir(data_dir)
    target = os.open(data_dir / DATABASE_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(target, "wb") as copy:
        copy.write(template.read_bytes())


def _run_admin(settings: Settings, action: Callable[[Admin], Awaitable[T]]) -> T:
    # A thread of its own, because async tests call this while their event loop runs.
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(run_admin, settings, action).result()


def _clean_env() -> dict[str, str]:
    # The test's settings must come from the config file alone.
    return {k: v for k, v in os.environ.items() if not k.startswith("NEURO_PLATFORM_")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_ready(process: BaseProcess, ping: yarl.URL, log_path: Path, logged: int) -> None:
    """Until this process answers `/ping`. Another process may answer at its port first (the
    port was free when picked, and taken before the server bound it): an answer counts when
    the process logged the request, which carries a mark of its own. `logged`: the size of
    the log before the process started."""
    mark = uuid.uuid4().hex
    probe = ping % {"probe": mark}
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.exitcode is not None:
            if f"[Errno {errno.EADDRINUSE}]" in _log_since(log_path, logged):
                raise PortTakenError(f"{ping.port} was taken before the platform server bound it")
            raise PlatformStartError(f"platform server exited with status {process.exitcode}")
        try:
            with urllib.request.urlopen(str(probe), timeout=1) as response:
                if response.status == 200 and mark in _log_since(log_path, logged):
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(POLL_INTERVAL_S)
    raise PlatformStartError(f"platform server did not answer {ping} in {STARTUP_TIMEOUT_S} s")


def _log_since(log_path: Path, offset: int) -> str:
    with log_path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def _stop(process: BaseProcess) -> None:
    if process.exitcode is None:
        process.terminate()
        process.join(STOP_TIMEOUT_S)
        if process.exitcode is None:
            process.kill()
            process.join()
    process.close()


def _deep_merge(target: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value
