"""Group commit (`db/group_commit.py`): what is asked during a commit goes into the next one
together, and a group that fails is committed one write at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest

from neuro_platform.db.group_commit import GroupCommit

Item = tuple[str, asyncio.Future[str]]


class Store:
    """Commits groups of named writes; a write named "bad" fails any group it is in."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def commit(self, group: Sequence[Item]) -> bool:
        await self.release.wait()
        names = [name for name, _ in group]
        self.groups.append(names)
        if "bad" in names:
            if len(group) == 1:
                group[0][1].set_exception(ValueError("bad write"))
            return False
        for name, done in group:
            done.set_result(f"{name} committed")
        return True


def _all(queue: list[Item]) -> tuple[list[Item], list[Item]]:
    return queue, []


def _ask(commits: GroupCommit[Item], name: str) -> asyncio.Future[str]:
    done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    commits.add((name, done))
    return done


async def test_writes_asked_during_a_commit_go_into_the_next_one_together() -> None:
    store = Store()
    commits = GroupCommit(store.commit, _all)
    store.release.clear()
    first = _ask(commits, "a")
    await asyncio.sleep(0)  # the group of "a" is being committed
    later = [_ask(commits, name) for name in ("b", "c", "d")]
    store.release.set()

    assert await asyncio.gather(first, *later) == [f"{n} committed" for n in "abcd"]
    assert store.groups == [["a"], ["b", "c", "d"]]


async def test_a_failing_group_is_committed_one_write_at_a_time() -> None:
    store = Store()
    commits = GroupCommit(store.commit, _all)
    asked = [_ask(commits, name) for name in ("a", "bad", "c")]

    outcomes = await asyncio.gather(*asked, return_exceptions=True)

    assert (outcomes[0], outcomes[2]) == ("a committed", "c committed")
    assert isinstance(outcomes[1], ValueError)  # only the bad write's caller is told
    assert store.groups == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]


async def test_groups_are_taken_as_the_take_function_splits_the_queue() -> None:
    store = Store()
    commits = GroupCommit(store.commit, lambda queue: (queue[:2], queue[2:]))
    asked = [_ask(commits, name) for name in "abcde"]

    await asyncio.gather(*asked)

    assert store.groups == [["a", "b"], ["c", "d"], ["e"]]


async def test_a_group_is_taken_once_the_turn_is_had() -> None:
    """Whatever is asked while the group waits for its turn goes with it."""
    store = Store()
    turn = asyncio.Lock()

    @asynccontextmanager
    async def our_turn() -> AsyncIterator[None]:
        async with turn:
            yield

    commits = GroupCommit(store.commit, _all, our_turn)
    async with turn:  # someone else is writing
        asked = [_ask(commits, "a")]
        await asyncio.sleep(0)
        asked += [_ask(commits, "b")]

    await asyncio.gather(*asked)
    assert store.groups == [["a", "b"]]


async def test_a_new_task_commits_what_is_asked_after_the_queue_ran_dry() -> None:
    store = Store()
    commits = GroupCommit(store.commit, _all)
    assert await _ask(commits, "a") == "a committed"
    await asyncio.sleep(0)  # the task has ended

    assert await asyncio.wait_for(_ask(commits, "b"), 5) == "b committed"
    with pytest.raises(ValueError, match="bad write"):
        await _ask(commits, "bad")
