"""Engine and session factory, with the SQLite settings a concurrent server needs."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .fencing import FencedSession

SQLITE_BUSY_TIMEOUT_MS = 10_000
# The database holds password hashes, token hashes and encrypted secrets: owner only.
SQLITE_FILE_MODE = 0o600
# SQLite creates these beside the database with the database file's own mode.
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


# Connections kept open. The default pool keeps 5 and closes any other when it is returned:
# 20 concurrent submissions opened (SQLite: a thread, a file, four PRAGMAs) and closed a
# connection for most of them (283 for 400 submissions); on PostgreSQL each opening is a
# TCP (and TLS negotiation) and a backend process, 14% of the server's CPU in a burst of
# kills. SQLite connections cost nothing on a server; a PostgreSQL one is a backend process
# of the database server (100 by default, shared by every server process of a scale-out
# installation), so fewer of those are kept.
SQLITE_POOL_SIZE = 32
POSTGRES_POOL_SIZE = 20


def create_engine(database_url: str) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        engine = create_async_engine(url, pool_size=SQLITE_POOL_SIZE, max_overflow=16)
    elif url.get_backend_name() == "postgresql":
        engine = create_async_engine(url, pool_size=POSTGRES_POOL_SIZE, max_overflow=5)
    else:  # an in-memory SQLite database (one static connection)
        engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        if engine.url.database and engine.url.database != ":memory:":
            _make_private(Path(engine.url.database))
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
    return engine


def _make_private(database: Path) -> None:
    """Creates the database file 0600 before SQLite does (it would use 0644, and its -wal and
    -shm files copy the database's mode), and narrows the files of an older installation."""
    if not database.parent.is_dir():
        return  # SQLite reports the missing directory on connect, in its own words
    os.close(os.open(database, os.O_RDWR | os.O_CREAT, SQLITE_FILE_MODE))
    for path in (database, *(Path(f"{database}{suffix}") for suffix in _SQLITE_COMPANIONS)):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, SQLITE_FILE_MODE)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the admin CLI write while the server reads; foreign keys are off by default
    # in SQLite; the busy timeout makes a concurrent writer wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs at checkpoints instead of at every commit: a crash of the
    # platform loses nothing, a power cut may lose the last commits but never corrupts the
    # file; every job transition (submit, start, end) is one commit, so they get cheaper.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Commits made by a leader's duties are fenced by its term (fencing.py).
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=FencedSession)
