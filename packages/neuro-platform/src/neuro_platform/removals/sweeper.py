"""The server's half of a user removal: ending the user's jobs and destroying their disks.

The admin CLI cannot do this itself: the jobs table has one writer, the server (its scheduler
keeps jobs in memory), and disks are loop mounts of the server. So the CLI leaves a
`user_removals` row and replaces the account-changes file; the server notices the file within
`POLL_INTERVAL_S` (and looks at start-up, and every `RESWEEP_INTERVAL_S` in case the file was
missed), ends the jobs with reason `UserRemoved`, destroys the disks and marks the row done with
what it did, which the CLI waits for and prints.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..auth.account_changes import AccountChanges
from ..auth.users import UserService
from ..buckets.service import BucketsService
from ..disks.service import DisksService
from ..jobs.service import JobsService
from .models import UserRemovalRow

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.1
RESWEEP_INTERVAL_S = 30.0


@dataclass(frozen=True)
class PendingRemoval:
    id: int
    user_name: str
    removed_at: datetime


def retired_name(removal: PendingRemoval) -> str:
    """Who a removed user's jobs belong to afterwards: no account can have a '.' in its name,
    so nobody owns them (the operator finds them by this name)."""
    return f"{removal.user_name}.removed-{removal.id}"


class RemovalSweeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        users: UserService,
        jobs: JobsService,
        disks: DisksService,
        changes: AccountChanges,
        buckets: BucketsService | None = None,
    ) -> None:
        self._buckets = buckets
        self._sessions = sessions
        self._users = users
        self._jobs = jobs
        self._disks = disks
        self._changes = changes

    async def run(self) -> None:
        last_sweep = -RESWEEP_INTERVAL_S
        while True:
            if self._changes.poll() or time.monotonic() - last_sweep >= RESWEEP_INTERVAL_S:
                last_sweep = time.monotonic()
                try:
                    await self.sweep()
                except Exception:  # the row stays pending: the next pass retries
                    log.exception("finishing user removals failed")
            await asyncio.sleep(POLL_INTERVAL_S)

    async def sweep(self) -> None:
        for removal in await self._pending():
            await self._finish(removal)

    async def _finish(self, removal: PendingRemoval) -> None:
        name = removal.user_name
        # With a new account of the name, only what the removed one had goes; jobs it
        # submitted while its removal was committing are caught as "created before" too, as
        # the new account cannot exist before the removal.
        created_before = None if await self._users.get(name) is None else removal.removed_at
        jobs = await self._jobs.retire_jobs_of(name, created_before, retired_name(removal))
        disks = await self._disks.remove_all_of(name, created_before)
        if self._buckets is not None:
            # Their credentials stop working; their buckets' data stays, owned by nobody.
            await self._buckets.retire_owner(name, created_before, retired_name(removal))
        log.info("user %s removed: %d job(s) ended, %d disk(s) destroyed", name, jobs, disks)
        async with self._sessions.begin() as session:
            await session.execute(
                update(UserRemovalRow)
                .where(UserRemovalRow.id == removal.id)
                .values(done_at=datetime.now(UTC), jobs_ended=jobs, disks_removed=disks)
            )

    async def _pending(self) -> list[PendingRemoval]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(UserRemovalRow)
                .where(UserRemovalRow.done_at.is_(None))
                .order_by(UserRemovalRow.id)
            )
            return [PendingRemoval(r.id, r.user_name, r.removed_at) for r in rows]
