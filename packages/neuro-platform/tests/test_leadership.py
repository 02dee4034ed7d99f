"""Leader election on PostgreSQL (leadership.py): one leader among candidates, and a leader
whose connection is cut stops its duties while another takes over."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from neuro_platform.leadership import LOCK_KEY, lead_forever

POSTGRES_URL_ENV = "NEURO_TEST_POSTGRES_URL"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get(POSTGRES_URL_ENV), reason="needs PostgreSQL"),
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


class Candidate:
    """Duties that record whether they run, and the most candidates ever running them at once."""

    most_at_once = 0
    at_once = 0
    someone_leads = asyncio.Event()

    def __init__(self) -> None:
        self.leading = False
        self.terms = 0
        self.changed = asyncio.Event()

    @asynccontextmanager
    async def duties(self) -> AsyncIterator[None]:
        self.leading = True
        self.terms += 1
        Candidate.at_once += 1
        Candidate.most_at_once = max(Candidate.most_at_once, Candidate.at_once)
        Candidate.someone_leads.set()
        self.changed.set()
        try:
            yield
        finally:
            Candidate.at_once -= 1
            Candidate.someone_leads.clear()
            self.leading = False
            self.changed.set()

    async def wait_until(self, leading: bool) -> None:
        while self.leading is not leading:
            self.changed.clear()
            await self.changed.wait()


async def _terminate_lock_holder(database_url: str) -> int:
    """Ends, from outside, the session that holds the leader lock: a dropped connection."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted "
                    "AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "AND classid::bigint = :high AND objid::bigint = :low"
                ),
                {"high": LOCK_KEY >> 32, "low": LOCK_KEY & 0xFFFFFFFF},
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def test_one_leader_and_fail_over_when_its_connection_drops(database_url: str) -> None:
    first, second = Candidate(), Candidate()
    first_task = asyncio.create_task(lead_forever(database_url, first.duties))
    await first.wait_until(leading=True)
    second_task = asyncio.create_task(lead_forever(database_url, second.duties))
    try:
        # The second keeps campaigning (every RETRY_S) but never wins while the first leads.
        await asyncio.sleep(2.5)
        assert not second.leading
        assert second.terms == 0

        assert await _terminate_lock_holder(database_url) == 1
        await first.wait_until(leading=False)  # the cut-off leader stops its duties
        # Then whichever campaigns first leads again (the first may win back the lock).
        await Candidate.someone_leads.wait()
        assert first.terms + second.terms == 2  # one new term, held by one candidate
        assert Candidate.most_at_once == 1
    finally:
        for task in (first_task, second_task):
            task.cancel()
        await asyncio.gather(first_task, second_task, return_exceptions=True)
    assert not first.leading  # cancelled: duties left
    assert not second.leading
