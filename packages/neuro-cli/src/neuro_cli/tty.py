"""The local terminal during an interactive session: raw mode, its size and SIGWINCH."""

import asyncio
import contextlib
import os
import signal
import sys
import termios
import tty
from collections.abc import Callable, Iterator


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    """Keys go to the job as typed (Ctrl-C included); the old settings come back after."""
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    # TCSANOW, not setraw's default TCSAFLUSH: what was typed ahead still goes to the job.
    tty.setraw(fd, termios.TCSANOW)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def terminal_size(fd: int) -> tuple[int, int] | None:
    """(rows, columns) of the terminal on `fd`; None when it is not a terminal."""
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return None
    return size.lines, size.columns


@contextlib.contextmanager
def on_resize(callback: Callable[[], None]) -> Iterator[None]:
    """Call `callback` (on the running loop) whenever the terminal is resized."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGWINCH, callback)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGWINCH)
