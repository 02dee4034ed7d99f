"""Exec and attach sessions over the Docker Engine's hijacked streams (via aiodocker)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerError
from aiodocker.execs import Exec
from aiodocker.stream import Stream

from .errors import ContainerNotFoundError, ContainerNotRunningError, OrchestratorError
from .interactive import InteractiveSession, Output, StreamOptions

_NOT_FOUND = 404
_CONFLICT = 409


class _DockerSession(InteractiveSession):
    def __init__(
        self,
        stream: Stream,
        resize: Callable[[int, int], Awaitable[None]],
        exit_code: Callable[[], Awaitable[int | None]],
    ) -> None:
        self._stream = stream
        self._resize = resize
        self._exit_code = exit_code

    async def read(self) -> Output | None:
        message = await self._stream.read_out()
        return None if message is None else Output(message.stream, message.data)

    async def write(self, data: bytes) -> None:
        await self._stream.write_in(data)

    async def close_stdin(self) -> None:
        # aiodocker's close() ends both directions; the engine closes the process's stdin on
        # a half-closed hijacked connection, which is what EOF must be.
        response = self._stream._resp
        transport = response.connection.transport if response and response.connection else None
        if transport is not None and transport.can_write_eof():
            transport.write_eof()

    async def resize(self, height: int, width: int) -> None:
        try:
            await self._resize(height, width)
        except DockerError as error:
            if error.status != _CONFLICT:  # the process has just ended: nothing to resize
                raise OrchestratorError(error.message) from error

    async def exit_code(self) -> int | None:
        return await self._exit_code()


async def _running(container: DockerContainer, job_id: str) -> dict[str, Any]:
    try:
        info = await container.show()
    except DockerError as error:
        if error.status == _NOT_FOUND:
            raise ContainerNotFoundError(f"No container for job {job_id}") from error
        raise OrchestratorError(error.message) from error
    if not info["State"].get("Running"):
        raise ContainerNotRunningError(f"Job {job_id} is not running")
    return info


@asynccontextmanager
async def exec_session(
    container: DockerContainer, job_id: str, command: Sequence[str], options: StreamOptions
) -> AsyncIterator[InteractiveSession]:
    await _running(container, job_id)
    try:
        execution: Exec = await container.exec(
            list(command),
            stdout=options.stdout,
            stderr=options.stderr,
            stdin=options.stdin,
            tty=options.tty,
        )
        stream = execution.start(detach=False, timeout=None)
        await stream._init()  # connect now, so a failure is an error and not a silent stream
    except DockerError as error:
        if error.status == _CONFLICT:
            raise ContainerNotRunningError(f"Job {job_id} is not running") from error
        raise OrchestratorError(error.message) from error

    async def resize(height: int, width: int) -> None:
        await execution.resize(h=height, w=width)

    async def exit_code() -> int | None:
        info = await execution.inspect()
        return None if info.get("Running") else int(info.get("ExitCode") or 0)

    try:
        yield _DockerSession(stream, resize, exit_code)
    finally:
        await stream.close()


@asynccontextmanager
async def attach_session(
    container: DockerContainer, job_id: str, options: StreamOptions
) -> AsyncIterator[InteractiveSession]:
    await _running(container, job_id)
    try:
        stream = container.attach(
            stdout=options.stdout, stderr=options.stderr, stdin=options.stdin, timeout=None
        )
        await stream._init()
    except DockerError as error:
        if error.status == _CONFLICT:
            raise ContainerNotRunningError(f"Job {job_id} is not running") from error
        raise OrchestratorError(error.message) from error

    async def resize(height: int, width: int) -> None:
        await container.resize(h=height, w=width)

    async def exit_code() -> int | None:
        try:
            state = (await container.show())["State"]
        except DockerError as error:
            if error.status == _NOT_FOUND:  # removed after it ended: the scheduler knows
                return None
            raise OrchestratorError(error.message) from error
        return None if state.get("Running") else int(state.get("ExitCode") or 0)

    try:
        yield _DockerSession(stream, resize, exit_code)
    finally:
        await stream.close()
