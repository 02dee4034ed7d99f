"""A live connection to a job's standard streams: an exec'd process or the job itself."""

from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(frozen=True)
class StreamOptions:
    """Which standard streams to connect, and whether through a terminal.

    With a terminal, stdout and stderr are one stream (it arrives as stdout).
    """

    tty: bool = False
    stdin: bool = False
    stdout: bool = True
    stderr: bool = True


@dataclass(frozen=True)
class Output:
    fileno: int  # 1 stdout, 2 stderr
    data: bytes


class InteractiveSession(abc.ABC):
    @abc.abstractmethod
    async def read(self) -> Output | None:
        """The next output chunk; None once the process has closed its output."""

    @abc.abstractmethod
    async def write(self, data: bytes) -> None:
        """Send `data` to the process's stdin."""

    @abc.abstractmethod
    async def close_stdin(self) -> None:
        """End of input: the process reads EOF, its output keeps flowing."""

    @abc.abstractmethod
    async def resize(self, height: int, width: int) -> None:
        """Resize the terminal (a no-op without one)."""

    @abc.abstractmethod
    async def exit_code(self) -> int | None:
        """The process's exit code; None while it still runs."""
