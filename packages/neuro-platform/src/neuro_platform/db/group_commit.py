"""Group commit: writes asked while a commit is under way go into the next one together, one
transaction (or one statement) for a burst instead of one each.

A task of its own commits the queue while anything waits in it, so that a caller cancelled
meanwhile strands nobody. If a group fails, each of its writes is committed on its own, so
that one bad write fails only its own caller: the commit function tells its callers (each
item carries its caller's future) what happened, and says whether the group committed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    def __init__(
        self,
        commit: Callable[[Sequence[T]], Awaitable[bool]],
        take: Callable[[list[T]], tuple[list[T], list[T]]],
        turn: Callable[[], AbstractAsyncContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        """`commit` writes a group and says whether it committed; `take` splits the queue
        into the next group and the rest; `turn` is waited for before each group is taken,
        so that whatever queued up meanwhile goes too."""
        self._commit = commit
        self._take = take
        self._turn = turn
        self._queue: list[T] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, item: T) -> None:
        """Queues `item` for the next group; the caller awaits the future it carries."""
        self._queue.append(item)
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            while self._queue:
                async with self._turn():
                    group, self._queue = self._take(self._queue)
                    if not await self._commit(group) and len(group) > 1:
                        for one in group:
                            await self._commit([one])
        finally:
            self._task = None
