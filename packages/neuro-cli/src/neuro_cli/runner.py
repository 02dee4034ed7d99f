"""Running an async command body: one ``asyncio.Runner`` per CLI invocation."""

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def async_command(func: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """Turn an ``async def`` command body into the plain callable click expects.

    The runner owns the loop's whole life: it cancels leftover tasks, shuts down async
    generators and the default executor, and turns the first Ctrl-C into a
    cancellation of the command followed by KeyboardInterrupt.
    """

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with asyncio.Runner() as runner:
            return runner.run(func(*args, **kwargs))

    return run
