"""Exec and attach on Slurm: a step in the job's own allocation (`srun --overlap --jobid`)
runs `podman exec` / `podman attach` on the job's node, with the platform host acting as a
login node (it needs `srun`, the cluster's slurm.conf and munge: docs/scale-out.md).

Without a terminal the step's stdout and stderr stay apart. srun reports a task's non-zero
exit on its own stderr, which would mix with the process's: the step therefore always ends
with 0 and leaves the process's exit code in a file on the shared filesystem.

With a terminal the step runs under `srun --pty` on a pseudo-terminal of ours: srun gives the
task a terminal on the node and forwards our terminal's size to it when it gets SIGWINCH, and
podman, seeing a terminal, passes it on to the container's. A resize is therefore: set the
size of our terminal, signal srun.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shlex
import signal
import struct
import termios
import tty
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from .interactive import InteractiveSession, Output, StreamOptions

READ_CHUNK = 64 * 1024
# When a terminal's size is signalled to srun again after the step started (_settle).
SETTLE_DELAYS_S = (0.25, 0.25, 0.5, 1.0, 1.0, 2.0, 2.0, 4.0)


Outcome = Callable[[], Awaitable[int | None]]


class _ExitFile:
    """The exit code the step leaves on the shared filesystem (see the module's docstring),
    or what `outcome` says once the step has ended (attach: the job's own exit code)."""

    def __init__(
        self, process: asyncio.subprocess.Process, exit_file: Path, outcome: Outcome | None
    ) -> None:
        self._process = process
        self._exit_file = exit_file
        self._outcome = outcome

    async def exit_code(self) -> int | None:
        if self._process.returncode is None:
            return None
        if self._outcome is not None:
            return await self._outcome()
        try:
            return int(await asyncio.to_thread(self._exit_file.read_text))
        except (OSError, ValueError):
            return self._process.returncode  # the step itself failed

    async def end(self) -> None:
        if self._process.returncode is None:
            self._process.kill()
        await self._process.wait()
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._exit_file.unlink)


class _StepSession(InteractiveSession):
    def __init__(self, process: asyncio.subprocess.Process, exit: _ExitFile) -> None:
        self._process = process
        self._exit = exit
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
        return await self._exit.exit_code()

    async def aclose(self) -> None:
        await self._exit.end()
        for reader in self._readers:
            reader.cancel()


class _TerminalSession(InteractiveSession):
    """A step under `srun --pty`, through the pseudo-terminal whose other side srun has."""

    def __init__(self, process: asyncio.subprocess.Process, terminal: int, exit: _ExitFile):
        self._process = process
        self._terminal = terminal
        self._exit = exit
        self._queue: asyncio.Queue[Output | None] = asyncio.Queue()
        self._ended = False
        self._loop = asyncio.get_running_loop()
        os.set_blocking(terminal, False)
        self._loop.add_reader(terminal, self._readable)
        self._resized = False
        self._settling = asyncio.create_task(self._settle())

    async def _settle(self) -> None:
        """srun forwards our terminal's size only on a SIGWINCH that reaches it once its
        terminal thread is connected to the node, which we cannot observe; a signal before
        that is lost (ignored, or its flag left unread until the next one). So a size set in
        the step's first seconds (a client sends one on connecting) is signalled again."""
        for delay in SETTLE_DELAYS_S:
            await asyncio.sleep(delay)
            if self._resized and self._process.returncode is None:
                self._process.send_signal(signal.SIGWINCH)

    def _readable(self) -> None:
        try:
            data = os.read(self._terminal, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:  # EIO: srun, the terminal's other side, has closed it
            data = b""
        if data:
            self._queue.put_nowait(Output(1, data))
            return
        self._loop.remove_reader(self._terminal)
        self._ended = True
        self._queue.put_nowait(None)

    async def read(self) -> Output | None:
        if self._ended and self._queue.empty():
            return None
        return await self._queue.get()

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._terminal, view) :]
            except BlockingIOError:
                writable = self._loop.create_future()
                self._loop.add_writer(self._terminal, writable.set_result, None)
                try:
                    await writable
                finally:
                    self._loop.remove_writer(self._terminal)
            except OSError:
                return  # the step has ended: nobody reads any more

    async def close_stdin(self) -> None:
        await self.write(b"\x04")  # EOF on a terminal is Ctrl-D, as a user would type it

    async def resize(self, height: int, width: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.ioctl(self._terminal, termios.TIOCSWINSZ, _winsize(height, width))
        self._resized = True
        if self._process.returncode is None:
            self._process.send_signal(signal.SIGWINCH)

    async def exit_code(self) -> int | None:
        if self._ended:
            await self._process.wait()  # its terminal has closed: the step is ending too
        return await self._exit.exit_code()

    async def aclose(self) -> None:
        self._settling.cancel()
        await self._exit.end()
        if not self._ended:
            self._loop.remove_reader(self._terminal)
        os.close(self._terminal)


class OutputSession(InteractiveSession):
    """Attach without stdin or a terminal: the job's output from the moment of attaching, read
    from its log on the shared filesystem. No step to start first, so nothing the job prints
    after the request is lost to the time a step takes to start; stdout and stderr stay apart
    (the log says which is which)."""

    def __init__(
        self,
        output: AsyncIterator[tuple[int, bytes]],
        exit_code: Callable[[], Awaitable[int | None]],
        options: StreamOptions,
    ) -> None:
        self._output = output
        self._exit_code = exit_code
        self._wanted = {1} if options.stdout else set()
        self._wanted |= {2} if options.stderr else set()

    async def read(self) -> Output | None:
        async for fileno, data in self._output:
            if fileno in self._wanted:
                return Output(fileno, data)
        return None

    async def write(self, data: bytes) -> None:
        return None  # no stdin asked for

    async def close_stdin(self) -> None:
        return None

    async def resize(self, height: int, width: int) -> None:
        return None  # no terminal

    async def exit_code(self) -> int | None:
        return await self._exit_code()


def _winsize(height: int, width: int) -> bytes:
    return struct.pack("HHHH", height, width, 0, 0)


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
    outcome: Outcome | None = None,
) -> AsyncIterator[InteractiveSession]:
    """Runs `podman <podman_args>` on the job's node inside its allocation; its exit code is
    podman's, or what `outcome` answers once the step has ended."""
    exit_file = run_dir / f"exec-{uuid.uuid4().hex}.exit"
    prelude = f". {shlex.quote(str(node_env_file))}; " if node_env_file else ""
    remote = f'{prelude}podman "$@"; printf %s "$?" > {shlex.quote(str(exit_file))}; exit 0'
    command = [*_srun(srun, slurm_id), "bash", "-c", remote, "podman", *podman_args]
    session: _StepSession | _TerminalSession
    if options.tty:
        terminal, other_side = os.openpty()
        tty.setraw(other_side)  # bytes pass as they are: the node's terminal interprets them
        try:
            process = await asyncio.create_subprocess_exec(
                command[0],
                "--pty",
                *command[1:],
                stdin=other_side,
                stdout=other_side,
                stderr=other_side,
                env=_env(slurm_conf),
                start_new_session=True,
            )
        except BaseException:
            os.close(terminal)
            raise
        finally:
            os.close(other_side)
        session = _TerminalSession(process, terminal, _ExitFile(process, exit_file, outcome))
    else:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE if options.stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if options.stdout else asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE if options.stderr else asyncio.subprocess.DEVNULL,
            env=_env(slurm_conf),
        )
        session = _StepSession(process, _ExitFile(process, exit_file, outcome))
    try:
        yield session
    finally:
        await session.aclose()


async def step_output(
    *,
    srun: str,
    slurm_conf: Path | None,
    slurm_id: int,
    node_env_file: Path | None,
    script: str,
    args: Sequence[str],
) -> str | None:
    """Runs `bash -c SCRIPT ARGS` on the job's node inside its allocation; its stdout, or
    None when it failed (the job ended meanwhile, or the script did)."""
    returncode, output, _ = await run_step(
        srun=srun,
        slurm_conf=slurm_conf,
        slurm_id=slurm_id,
        node_env_file=node_env_file,
        script=script,
        args=args,
    )
    return output if returncode == 0 else None


async def run_step(
    *,
    srun: str,
    slurm_conf: Path | None,
    slurm_id: int,
    node_env_file: Path | None,
    script: str,
    args: Sequence[str],
) -> tuple[int, str, str]:
    """Runs `bash -c SCRIPT ARGS` on the job's node inside its allocation: its exit code (the
    step's: non-zero too when srun could not run it), stdout and stderr."""
    prelude = f". {shlex.quote(str(node_env_file))}; " if node_env_file else ""
    process = await asyncio.create_subprocess_exec(
        *_srun(srun, slurm_id),
        "bash",
        "-c",
        prelude + script,
        "step",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(slurm_conf),
    )
    try:
        output, errors = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None  # communicate() returned: it has exited
    return process.returncode, output.decode(), errors.decode(errors="replace")


def _srun(srun: str, slurm_id: int) -> list[str]:
    return [srun, "--quiet", "--overlap", f"--jobid={slurm_id}", "--nodes=1", "--ntasks=1"]


def _env(slurm_conf: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if slurm_conf is not None:
        env["SLURM_CONF"] = str(slurm_conf)
    return env
