"""Garbage collection of the private registry: on a schedule and on request.

`docker-registry garbage-collect` must not run while pushes can happen (it would delete
blobs of a push in progress), so the leader keeps every process's registry requests out for
it (`PrivateRegistry.collect_garbage`, `gc_gate.py`). `neuro-platform admin registry gc`
either runs it itself, holding the data dir lock so no server starts meanwhile, or (while a
server holds that lock) asks the server through a file, as `auth/account_changes.py` does for
accounts: it replaces `<data_dir>/registry/gc-request` with a new id, and the server, which looks at
that file twice a second, collects and writes `gc-result` naming the same id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import shutil
from pathlib import Path

from ..data_dir import DataDirInUseError, lock_data_dir
from ..settings import Settings
from .private import PrivateRegistry, RegistryFiles, RegistryUnavailableError, run_garbage_collect

log = logging.getLogger(__name__)

REQUEST_FILE = "gc-request"
RESULT_FILE = "gc-result"
REQUEST_POLL_S = 0.5


class GarbageCollectionError(RuntimeError):
    pass


def registry_files(settings: Settings, instance: int | None = None) -> RegistryFiles:
    return RegistryFiles(settings.data_dir / "registry", instance)


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.write_text(text)
    os.replace(temporary, path)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


async def collect_loop(registry: PrivateRegistry, interval_s: float) -> None:
    """Runs for the server's life: collects every `interval_s` and whenever asked."""
    request_path = registry.files.root / REQUEST_FILE
    seen = _read(request_path)
    loop = asyncio.get_running_loop()
    next_run = loop.time() + interval_s
    while True:
        await asyncio.sleep(min(REQUEST_POLL_S, max(0.0, next_run - loop.time())))
        request = _read(request_path)
        asked = request is not None and request != seen
        if not asked and loop.time() < next_run:
            continue
        seen = request
        next_run = loop.time() + interval_s
        result: dict[str, str | None] = {"id": request if asked else None}
        try:
            result["summary"] = await registry.collect_garbage()
            log.info("registry garbage collection: %s", result["summary"])
        except (RuntimeError, OSError) as e:
            result["error"] = str(e)
            log.warning("registry garbage collection failed: %s", e)
        if asked:
            _replace(registry.files.root / RESULT_FILE, json.dumps(result))


async def collect_garbage(settings: Settings, wait_s: float) -> str:
    """The admin command: collects here while no server runs, else asks the server."""
    files = registry_files(settings)
    try:
        lock = lock_data_dir(settings.data_dir)
    except DataDirInUseError:
        return await _ask_server(files, wait_s)
    try:
        binary = shutil.which(settings.registry.binary)
        if binary is None:
            raise RegistryUnavailableError(f"{settings.registry.binary!r} is not installed")
        return await run_garbage_collect(binary, files)
    finally:
        lock.release()


async def _ask_server(files: RegistryFiles, wait_s: float) -> str:
    files.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    request_id = secrets.token_hex(16)
    _replace(files.root / REQUEST_FILE, request_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while loop.time() < deadline:
        text = _read(files.root / RESULT_FILE)
        if text:
            result = json.loads(text)
            if result.get("id") == request_id:
                if result.get("error"):
                    raise GarbageCollectionError(result["error"])
                return str(result.get("summary"))
        await asyncio.sleep(REQUEST_POLL_S / 2)
    raise GarbageCollectionError(
        f"the running server did not collect within {wait_s:g} s (is its registry running?)"
    )
