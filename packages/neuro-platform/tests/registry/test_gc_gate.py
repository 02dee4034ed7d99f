"""Garbage collection keeps out of the registries of every process of a data dir
(registry/gc_gate.py). Each `GcGate` below opens the lock files itself, as another process
would: `flock` locks on different open files conflict within a process as between processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from neuro_platform.registry.gc_gate import CollectingError, GcGate


async def test_a_collection_waits_for_a_request_of_another_process_and_refuses_new_ones(
    tmp_path: Path,
) -> None:
    leader, other, third = GcGate(tmp_path), GcGate(tmp_path), GcGate(tmp_path)
    collected = asyncio.Event()

    async def collect() -> None:
        async with leader.collecting():
            collected.set()

    with other.request():  # an upload in flight on another process
        with other.request():  # a second one there: the process's hold is shared
            pass
        collecting = asyncio.create_task(collect())
        await asyncio.sleep(0)  # the collector has declared itself and waits
        assert not collected.is_set()
        with pytest.raises(CollectingError), third.request():
            pass  # a new request on any process is refused meanwhile
    await collecting  # the request ended: the collection runs
    assert collected.is_set()
    # And afterwards requests are admitted again.
    with third.request(), other.request():
        pass


async def test_no_request_is_admitted_while_a_collection_runs(tmp_path: Path) -> None:
    leader, other = GcGate(tmp_path), GcGate(tmp_path)
    async with leader.collecting():
        for gate in (other, leader):  # the leader's own requests too
            with pytest.raises(CollectingError), gate.request():
                pass
    with other.request():
        pass
