"""Asking the user a question from inside a running command."""

import asyncio
import contextlib
import functools
import io
import os
import sys
import threading
from collections.abc import Callable

import click


async def ask(question: str) -> str:
    """Prompt for one line without blocking the event loop; empty input is allowed.

    The blocking read runs in a daemon thread rather than the loop's executor, so that
    on Ctrl-C the command is cancelled at once and the process exits while the thread
    still waits for a line that will never come. End of input raises ``click.Abort``.
    """
    stdin_fd = _stdin_fd()
    if stdin_fd is None:
        # In-process runners (click's CliRunner) give stdin no descriptor.
        read: Callable[[], str] = lambda: click.prompt(  # noqa: E731
            question, default="", show_default=False, prompt_suffix=""
        )
    else:
        click.echo(question, nl=False)
        read = lambda: _read_line(stdin_fd)  # noqa: E731
    return await _in_daemon_thread(read)


def _stdin_fd() -> int | None:
    try:
        return sys.stdin.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return None


def _read_line(fd: int) -> str:
    # Reads the descriptor directly, byte by byte, instead of through sys.stdin: a
    # daemon thread blocked inside sys.stdin's buffered reader holds its lock, and the
    # interpreter aborts ("could not acquire lock ... at interpreter shutdown") when it
    # exits meanwhile, e.g. on Ctrl-C. Byte reads never consume input past the line.
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            if not line:
                raise click.Abort()
            break
        line += byte
    return line.decode(sys.stdin.encoding or "utf-8", errors="replace").rstrip("\r\n")


async def _in_daemon_thread(read: Callable[[], str]) -> str:
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def deliver_answer(text: str) -> None:
        if not answer.done():
            answer.set_result(text)

    def deliver_error(exc: BaseException) -> None:
        if not answer.done():
            answer.set_exception(exc)

    def run() -> None:
        outcome: Callable[[], None]
        try:
            outcome = functools.partial(deliver_answer, read())
        except BaseException as exc:  # e.g. click.Abort at the end of input
            outcome = functools.partial(deliver_error, exc)
        # When the command was cancelled (Ctrl-C) the loop may be closed already and
        # nobody waits for the answer any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(outcome)

    threading.Thread(target=run, name="neuro-prompt", daemon=True).start()
    return await answer
