"""The private registry: Debian's `docker-registry serve` on a unix socket of its own.

It has no auth of its own, so only the `/v2/` endpoint may talk to it: it listens on
`<data_dir>/registry/registry.sock`, in a directory of mode 0700, which no other local user
can enter and no job's container has mounted; it has no TCP port at all. Its files live in
`<data_dir>/registry`: `config.yml` (rewritten at every start), `storage/` and the socket.

Several processes sharing a data dir on PostgreSQL (docs/scale-out.md) each run a registry of
their own, named by the process (`registry-<pid>.sock`, `config-<pid>.yml`), on the one
`storage/` and with the one upload-signing secret: distribution keeps everything of an upload
in the storage (its `_state` parameter is signed by the shared secret), so an upload begun
through one process may go on through another. Garbage collection keeps out of every one of
them (`gc_gate.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from yarl import URL

from .gc_gate import CollectingError, GcGate

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
_POLL_S = 0.05
# Waits between restarts of a registry that keeps dying: growing, never above a minute.
_RESTART_DELAYS_S = (0.5, 1.0, 2.0, 5.0, 15.0, 60.0)
# A unix socket's path must fit `sockaddr_un.sun_path` (108 bytes, with the closing NUL).
_MAX_SOCKET_PATH = 107
# The host part of the URLs sent over the socket; the registry uses relative URLs.
BASE_URL = URL("http://private-registry")


class RegistryUnavailableError(RuntimeError):
    """The message says why (binary missing, not started yet, collecting garbage)."""

    def __init__(self, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class RegistryFiles:
    root: Path  # `<data_dir>/registry`
    # The serving process's pid where several processes share the data dir, else None.
    instance: int | None = None

    @property
    def config(self) -> Path:
        return self.root / (
            "config.yml" if self.instance is None else f"config-{self.instance}.yml"
        )

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    @property
    def socket(self) -> Path:
        name = "registry.sock" if self.instance is None else f"registry-{self.instance}.sock"
        return self.root / name

    def remove_stale(self) -> None:
        """Removes the socket and config of processes that no longer run (killed ones)."""
        for path in [*self.root.glob("registry-*.sock"), *self.root.glob("config-*.yml")]:
            pid = path.stem.split("-", 1)[1]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                path.unlink(missing_ok=True)

    @property
    def secret(self) -> Path:
        # Signs upload state (`_state`); kept so uploads survive a restart of the registry.
        return self.root / "http-secret"

    def write_config(self, tcp_address: str | None = None) -> None:
        """Listens on `socket`; a `tcp_address` (`host:port`) is for the benchmark's direct
        baseline only (`benchmarks/images.py`), never for a platform's registry."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        # The mode is what keeps other local users off the socket: enforce it on a directory
        # that existed before (made by hand, or by an older version).
        os.chmod(self.root, 0o700)
        self.storage.mkdir(mode=0o700, exist_ok=True)
        if not self.secret.exists():
            fd = os.open(self.secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        # JSON strings are YAML strings: no path or secret can break the document.
        text = "\n".join(
            [
                "version: 0.1",
                "log:",
                "  level: warn",
                "  accesslog:",
                "    disabled: true",
                "storage:",
                "  filesystem:",
                f"    rootdirectory: {json.dumps(str(self.storage))}",
                "  delete:",
                "    enabled: true",
                "http:",
                f"  net: {json.dumps('tcp' if tcp_address else 'unix')}",
                f"  addr: {json.dumps(tcp_address or str(self.socket))}",
                f"  secret: {json.dumps(self.secret.read_text().strip())}",
                "  relativeurls: true",
                "",
            ]
        )
        temporary = self.config.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(temporary, self.config)


def _die_with_parent() -> list[str]:
    """A platform killed with SIGKILL must not leave its registry behind holding the port:
    util-linux's `setpriv --pdeathsig` (Debian essential) asks the kernel to end it. Not a
    Python `preexec_fn`: forking a threaded process and running Python in the child can
    deadlock (it did here, on the loader lock)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def _socket_problem(files: RegistryFiles) -> str | None:
    if len(os.fsencode(files.socket)) > _MAX_SOCKET_PATH:
        return (
            f"the image registry is not available: its socket path {files.socket} is longer "
            f"than {_MAX_SOCKET_PATH} bytes; use a shorter data dir"
        )
    return None


def connector(files: RegistryFiles) -> aiohttp.UnixConnector:
    """How a client session reaches the registry (with URLs under `BASE_URL`)."""
    return aiohttp.UnixConnector(path=str(files.socket))


class PrivateRegistry:
    """Starts, watches and stops one `docker-registry serve`; collects its garbage.

    Requests hold `use()` while they talk to it; `collect_garbage()` refuses new ones on every
    process of the data dir (503 + Retry-After), waits for the running ones, and collects
    (`gc_gate.py`). The registries keep running meanwhile: with no `storage.cache` configured
    they keep nothing of the storage in memory that a collection could leave stale.
    """

    def __init__(self, files: RegistryFiles, binary: str) -> None:
        self.files = files
        self._binary = shutil.which(binary)
        self._binary_name = binary
        # Why the registry cannot run here at all, or None.
        self._problem = _socket_problem(files)
        if self._binary is None:
            self._problem = (
                f"the image registry is not available: {binary!r} is not installed "
                "on the server (Debian package docker-registry)"
            )
        self._process: asyncio.subprocess.Process | None = None
        self._running = False
        self._gate = GcGate(files.root)

    def check_available(self) -> URL:
        """The registry's base URL (reached through `connector`) now, or
        RegistryUnavailableError saying why not."""
        if self._problem is not None:
            raise RegistryUnavailableError(self._problem)
        if not self._running:
            raise RegistryUnavailableError(
                "the image registry is not running; try again shortly", retry_after_s=5
            )
        return BASE_URL

    @contextlib.asynccontextmanager
    async def use(self) -> AsyncIterator[URL]:
        """The registry's base URL, held for the length of one proxied request."""
        url = self.check_available()
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(self._gate.request())
            except CollectingError:
                raise RegistryUnavailableError(
                    "the image registry is collecting garbage; try again shortly",
                    retry_after_s=5,
                ) from None
            yield url

    async def start(self) -> None:
        """Starts the registry and waits until it answers (about 0.2 s): the server answers
        requests only after this, so `/v2/` never says "not running" at start-up."""
        if self._problem is not None:
            log.warning("%s: /v2/ answers 503", self._problem)
            return
        await self._start()

    async def supervise(self) -> None:
        """Restarts the registry whenever it ends, until cancelled (then stops it)."""
        if self._problem is not None:
            return
        failures = 0
        try:
            while True:
                if self._process is None or self._process.returncode is not None:
                    await self._start()
                process = self._process
                assert process is not None
                code = await process.wait()
                self._running = False
                delay = _RESTART_DELAYS_S[min(failures, len(_RESTART_DELAYS_S) - 1)]
                failures += 1
                log.warning("private registry exited with %s; restarting in %s s", code, delay)
                await asyncio.sleep(delay)
        finally:
            await self._stop()

    async def _start(self) -> None:
        assert self._binary is not None
        self.files.write_config()
        self.files.remove_stale()
        # Left behind by a registry that was killed; the registry would remove it too, but
        # refuses anything that is not a socket.
        self.files.socket.unlink(missing_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            *_die_with_parent(),
            self._binary,
            "serve",
            str(self.files.config),
            stdin=asyncio.subprocess.DEVNULL,
        )
        await self._wait_ready()
        self._running = True
        log.info("private registry listening on %s", self.files.socket)

    async def _wait_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT_S
        async with aiohttp.ClientSession(connector=connector(self.files)) as session:
            while loop.time() < deadline:
                if self._process is None or self._process.returncode is not None:
                    return  # `run` sees the exit and restarts it
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(BASE_URL / "v2/") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(_POLL_S)
        log.warning(
            "private registry did not answer on %s in %s s", self.files.socket, READY_TIMEOUT_S
        )

    async def _stop(self) -> None:
        self._running = False
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def collect_garbage(self) -> str:
        """Deletes untagged manifests and unreferenced blobs; returns the tool's summary."""
        if self._binary is None:
            raise RegistryUnavailableError(f"{self._binary_name!r} is not installed")
        async with self._gate.collecting():
            return await run_garbage_collect(self._binary, self.files)


async def run_garbage_collect(binary: str, files: RegistryFiles) -> str:
    """`docker-registry garbage-collect --delete-untagged` on a registry that is not serving."""
    if not (files.storage / "docker" / "registry" / "v2" / "repositories").is_dir():
        return "nothing to delete"  # the tool fails on a registry that was never pushed to
    if not files.config.exists():
        files.write_config()
    process = await asyncio.create_subprocess_exec(
        binary,
        "garbage-collect",
        "--delete-untagged",
        str(files.config),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"garbage-collect failed ({process.returncode}): {text[-2000:]}")
    return _summary(text)


_GC_SUMMARY = re.compile(r"\d+ blobs marked, \d+ blobs and \d+ manifests eligible for deletion")


def _summary(output: str) -> str:
    """The tool's closing line, e.g. `9 blobs marked, 2 blobs and 1 manifests eligible for
    deletion` (with --dry-run off, eligible ones are deleted)."""
    match = _GC_SUMMARY.search(output)
    return match[0] if match else "nothing to delete"
