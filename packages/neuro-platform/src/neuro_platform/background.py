"""A task that runs for as long as a block does: the server's long-running loops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any


@contextlib.asynccontextmanager
async def running_in_background(
    coroutine: Coroutine[Any, Any, None], name: str
) -> AsyncIterator[None]:
    """Starts `coroutine` as a task, and cancels it (waiting for it to end) on leaving."""
    task = asyncio.create_task(coroutine, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
