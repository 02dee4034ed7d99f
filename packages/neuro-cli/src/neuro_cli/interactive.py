"""Connecting the local terminal or pipes to an exec or attach session (StdStream).

Local stdin goes to the job (its end, in a session without a terminal, becomes the job's
EOF); stdout and stderr come back to ours. With a terminal the local one is put into raw
mode and its size is sent at the start and after each SIGWINCH.
"""

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncIterator

import neuro_sdk
from neuro_cli.errors import EXIT_ERROR
from neuro_cli.tty import on_resize, raw_mode, terminal_size

READ_SIZE = 64 * 1024


async def run_session(stream: neuro_sdk.StdStream, *, tty: bool, stdin: bool) -> int:
    """Pump both ways until the job's side ends; its exit code."""
    in_fd, out_fd = sys.stdin.fileno(), sys.stdout.fileno()
    sizes: set[asyncio.Task[None]] = set()

    def send_size() -> None:
        size = terminal_size(out_fd) or terminal_size(in_fd)
        if size is not None:
            task = asyncio.create_task(stream.resize(*size))
            sizes.add(task)
            task.add_done_callback(sizes.discard)

    async def pump_in() -> None:
        async for chunk in _chunks(in_fd):
            await stream.write_in(chunk)
        if not tty:
            await stream.write_in(b"")  # EOF for the job's process

    with contextlib.ExitStack() as terminal:
        if tty:
            terminal.enter_context(raw_mode(in_fd))
            terminal.enter_context(on_resize(send_size))
            send_size()
        feeder = asyncio.create_task(pump_in()) if stdin else None
        try:
            return await _pump_out(stream)
        finally:
            if feeder is not None:
                feeder.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await feeder


async def _pump_out(stream: neuro_sdk.StdStream) -> int:
    try:
        while (message := await stream.read_out()) is not None:
            target = sys.stderr if message.fileno == 2 else sys.stdout
            target.flush()
            target.buffer.write(message.data)
            target.buffer.flush()
    except neuro_sdk.StdStreamError as finished:
        return finished.exit_code
    return EXIT_ERROR  # the connection ended without the job's status


async def _chunks(fd: int) -> AsyncIterator[bytes]:
    """What arrives on `fd`, read by a daemon thread with the fd left blocking.

    Polling is no good here: the fd may share its file description with our stdout (so it
    must not become non-blocking), regular files cannot be polled, and Linux does not
    report a terminal readable after a switch to raw mode or a resize until more input
    comes. A daemon thread blocked in read() does not keep the CLI from exiting.
    """
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[bytes] = asyncio.Queue()

    def read_all() -> None:
        while True:
            try:
                chunk = os.read(fd, READ_SIZE)
            except OSError:
                chunk = b""
            try:
                loop.call_soon_threadsafe(chunks.put_nowait, chunk)
            except RuntimeError:  # the loop has closed: nobody is listening any more
                return
            if not chunk:
                return

    threading.Thread(target=read_all, name="neuro-stdin", daemon=True).start()
    while chunk := await chunks.get():
        yield chunk
