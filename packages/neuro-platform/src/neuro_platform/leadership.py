"""Which process runs the loops that must run once: the scheduler and its kin.

Several `serve` processes may share one PostgreSQL database (docs/scale-out.md). Every one
serves the API; only the leader runs the duties (`composition.leader_duties`: the job
scheduler with its log archivers, the removal sweeper, the disk refresh, the private registry's
garbage collection). Leadership is a session-level `pg_try_advisory_lock` held on a
connection of its own: PostgreSQL drops the lock when that session ends, so a leader killed
with SIGKILL frees it the moment the server notices the closed socket, and the next candidate
(each retries every `RETRY_S`) takes over and adopts the running containers.

A leader that loses its connection has lost the lock too, so it stops its duties at once: the
connection's termination listener fires when the socket closes, and a `SELECT 1` every
`RETRY_S` (bounded by the same time) catches a connection that hangs instead. A leader cut
off from PostgreSQL may notice later than PostgreSQL does, with a write of its scheduler in
flight: each election won starts a new term, and the database refuses the commits of an older
term (db/fencing.py). What the old scheduler does outside the database in that time (for up
to `RETRY_S`) is not fenced: it does not start a job twice (a job's container has one name,
so a second start finds the first's container: `DockerOrchestrator.start`).

On SQLite there is one process (the data dir lock forbids a second), which runs the duties for
its whole life without an election.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy import NullPool, make_url, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from .db.fencing import acting_as, next_term

log = logging.getLogger(__name__)

# The advisory lock's key, the same in every process of one database: "neuro-sc" as bytes.
LOCK_KEY = 0x6E6575726F2D7363
RETRY_S = 1.0

Duties = Callable[[], AbstractAsyncContextManager[None]]
# What a broken or unreachable database raises here.
_CONNECTION_ERRORS = (OSError, TimeoutError, DBAPIError, InterfaceError, OperationalError)


def is_postgres(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


async def lead_forever(database_url: str, duties: Duties) -> None:
    """Runs `duties` whenever this process leads, until cancelled (PostgreSQL only)."""
    # A connection of its own, outside the pool, with no transaction left open on it.
    engine = create_async_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        while True:
            try:
                async with _leadership(engine.connect()) as (connection, term):
                    log.info(
                        "leading: the scheduler and the other single-process loops run here "
                        "(term %d)",
                        term,
                    )
                    try:
                        # The duties' tasks inherit the term: their commits are fenced by it.
                        with acting_as(term):
                            async with duties():
                                await _until_lost(connection)
                    finally:
                        log.warning("no longer leading: the scheduler has stopped here")
            except _NotLeader:
                pass
            except _CONNECTION_ERRORS as error:
                log.warning("leader election: %s", error)
            except Exception:  # a duty that failed to start: give the lock up and try again
                log.exception("leading failed")
            await asyncio.sleep(RETRY_S)
    finally:
        await engine.dispose()


class _NotLeader(Exception):
    pass


@contextlib.asynccontextmanager
async def _leadership(connecting: AsyncConnection) -> AsyncIterator[tuple[AsyncConnection, int]]:
    """Holds the lock for the block (on the connection it yields, with the new term's epoch),
    or raises _NotLeader when another process holds it."""
    async with asyncio.timeout(RETRY_S * 5):
        connection = await connecting.start()
    try:
        async with asyncio.timeout(RETRY_S * 5):
            won = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
            )
        if not won:
            raise _NotLeader
        async with asyncio.timeout(RETRY_S * 5):
            # Waits for the commits of a deposed leader's term in flight (fencing.py).
            term = await next_term(connection)
        yield connection, term
    finally:
        # Ending the session is what releases the lock (also when it is already gone).
        with contextlib.suppress(*_CONNECTION_ERRORS):
            await connection.invalidate()
        with contextlib.suppress(*_CONNECTION_ERRORS):
            await connection.close()


async def _until_lost(connection: AsyncConnection) -> None:
    """Returns when the lock's connection ends or stops answering."""
    lost = asyncio.Event()
    # asyncpg notices a closed socket at once, without a query in flight.
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is not None:
        driver.add_termination_listener(lambda _: lost.set())
    while not lost.is_set():
        try:
            async with asyncio.timeout(RETRY_S):
                await connection.scalar(text("SELECT 1"))
        except _CONNECTION_ERRORS as error:
            log.error("the leader's database connection failed: %s", error)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RETRY_S):
                await lost.wait()
    log.error("the leader's database connection closed")
