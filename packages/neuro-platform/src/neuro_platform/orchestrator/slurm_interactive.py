"""Exec and attach on Slurm: a step in the job's own allocation (`srun --overlap --jobid`)
runs `podman exec` / `podman attach` on the job's node, with the platform host acting as a
login node (it needs `srun`, the cluster's slurm.conf and munge: docs/scale-out.md).

Without a terminal the step's stdout and stderr stay apart. srun reports a task's non-zero
exit on its own stderr, which would mix with the process's: the step therefore always ends
with 0 and leaves the process's exit code in a file on the shared filesystem.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from .interactive import InteractiveSession, Output, StreamOptions

READ_CHUNK = 64 * 1024


class _StepSession(InteractiveSession):
    def __init__(self, process: asyncio.subprocess.Process, exit_file: Path) -> None:
        self._process = process
        self._exit_file = exit_file
        self._queue: asyncio.Queue[Output | None] = asyncio.Queue()
        self._open = 0
        self._readers = [
            asyncio.create_task(self._pump(stream, fileno))
            for stream, fileno in ((process.stdout, 1), (process.stderr, 2))
            if stream is not None
        ]

    async def _pump(self, stream: asyncio.StreamReader, fileno: int) -> None:
        self._open += 1
        try:
            while data := await stream.read(READ_CHUNK):
                await self._queue.put(Output(fileno, data))
        finally:
            self._open -= 1
            if self._open == 0:
                await self._queue.put(None)

    async def read(self) -> Output | None:
        if not self._readers:
            return None
        return await self._queue.get()

    async def write(self, data: bytes) -> None:
        if self._process.stdin is not None:
            self._process.stdin.write(data)
            await self._process.stdin.drain()

    async def close_stdin(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()

    async def resize(self, height: int, width: int) -> None:
        return None  # no terminal: see StreamOptions.tty in exec/attach

    async def exit_code(self) -> int | None:
        if self._readers and self._open == 0:
            await self._process.wait()  # its output has ended: the step is ending too
        if self._process.returncode is None:
            return None
        try:
            return int(await asyncio.to_thread(self._exit_file.read_text))
        except (OSError, ValueError):
            return self._process.returncode  # the step itself failed

    async def aclose(self) -> None:
        if self._process.returncode is None:
            self._process.kill()
        await self._process.wait()
        for reader in self._readers:
            reader.cancel()
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._exit_file.unlink)


@asynccontextmanager
async def step_session(
    *,
    srun: str,
    slurm_conf: Path | None,
    slurm_id: int,
    run_dir: Path,
    node_env_file: Path | None,
    podman_args: Sequence[str],
    options: StreamOptions,
) -> AsyncIterator[InteractiveSession]:
    """Runs `podman <podman_args>` on the job's node inside its allocation."""
    exit_file = run_dir / f"exec-{uuid.uuid4().hex}.exit"
    prelude = f". {shlex.quote(str(node_env_file))}; " if node_env_file else ""
    remote = f'{prelude}podman "$@"; printf %s "$?" > {shlex.quote(str(exit_file))}; exit 0'
    env = dict(os.environ)
    if slurm_conf is not None:
        env["SLURM_CONF"] = str(slurm_conf)
    process = await asyncio.create_subprocess_exec(
        srun,
        "--quiet",
        "--overlap",
        f"--jobid={slurm_id}",
        "--nodes=1",
        "--ntasks=1",
        "bash",
        "-c",
        remote,
        "podman",
        *podman_args,
        stdin=asyncio.subprocess.PIPE if options.stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if options.stdout else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE if options.stderr else asyncio.subprocess.DEVNULL,
        env=env,
    )
    session = _StepSession(process, exit_file)
    try:
        yield session
    finally:
        await session.aclose()
