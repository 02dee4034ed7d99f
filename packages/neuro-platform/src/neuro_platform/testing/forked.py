"""`neuro-platform serve` for tests, forked from a process that has imported the platform already.

A fresh `python -m neuro_platform serve` spends about 1.3 s of its 1.8 s start importing
(SQLAlchemy, alembic, aiohttp, the platform itself), and the suite starts hundreds of servers. A
multiprocessing forkserver imports those modules once per test process and forks each server from
it: to the server it is still a process of its own (its own pid, environment, stdout and
signals: `terminate` is the SIGTERM a `kill` would send), only without the imports. Forking the
test process itself instead would copy its threads, event loop and open sockets into the server.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping, Sequence
from multiprocessing.process import BaseProcess
from pathlib import Path

_FORKSERVER = multiprocessing.get_context("forkserver")
# What `serve` imports (the CLI imports the application only when `serve` runs), this module
# (the forks' entry point is unpickled by reference), then all of it frozen.
_FORKSERVER.set_forkserver_preload(
    ["neuro_platform.cli", "neuro_platform.app", __name__, f"{__package__}.forkserver_frozen"]
)


def start_server(args: Sequence[str], env: Mapping[str, str], log_path: Path) -> BaseProcess:
    """Starts `neuro-platform ARGS` with `env` as its whole environment, its stdout and stderr
    appended to `log_path`."""
    log_path.touch(0o600)
    process = _FORKSERVER.Process(
        target=_run, args=(list(args), dict(env), str(log_path)), name="neuro-platform"
    )
    process.start()
    return process


def _run(args: list[str], env: dict[str, str], log_path: str) -> None:
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.environ.clear()
    os.environ.update(env)
    from neuro_platform.cli import main

    # click's standalone mode ends with SystemExit, which multiprocessing makes the exit code.
    main(args=args, prog_name="neuro-platform")
