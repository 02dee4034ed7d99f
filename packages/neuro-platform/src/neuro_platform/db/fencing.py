"""Fencing: a deposed leader's late writes are refused by the database, not by timing.

Several processes may share one PostgreSQL database; the one elected (leadership.py) runs the
scheduler and the other loops that must run once. A leader cut off from PostgreSQL notices
later than PostgreSQL does, so a transaction of its scheduler may still be on its way when
another process has won. Each election won raises the `leadership` row's epoch
(`next_term`) and the winner runs its duties in a context that carries that epoch
(`acting_as`). Every transaction committed from that context (`FencedSession`, the session
class of every session factory) first reads the epoch `FOR SHARE` and aborts with `Deposed`
when it is no longer its own:

- a transaction that read its epoch before the winner's `UPDATE` holds a share lock on the row
  until it ends, so the winner's raise waits for it: it lands before the new term starts;
- one that reads after the raise sees the new epoch (PostgreSQL re-reads a row it waited
  for) and rolls back: nothing of it lands.

The check is at commit, after the transaction's own writes, so a write the old leader has in
flight is decided by the row lock alone. Writes outside a leader's context (the API, on any
process) are not fenced, and neither is SQLite, where one process leads for its whole life
without an election (no context carries a term there).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session

# The epoch of the term whose duties run in this context; None outside a leader's duties.
_term: ContextVar[int | None] = ContextVar("leader_term", default=None)

_RAISE = text("UPDATE leadership SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch")
_READ = text("SELECT epoch FROM leadership WHERE id = 1 FOR SHARE")


class Deposed(Exception):
    """A leader's write after another process won: rolled back, nothing of it stored."""

    def __init__(self, term: int, current: int | None) -> None:
        super().__init__(f"this process led in term {term}, the database is in term {current}")
        self.term = term
        self.current = current


async def next_term(connection: AsyncConnection) -> int:
    """Starts a new term (on the winner's connection, right after winning): its epoch."""
    epoch = await connection.scalar(_RAISE)
    if epoch is None:
        raise RuntimeError("the leadership row is missing: run the migrations (0010)")
    return int(epoch)


@contextlib.contextmanager
def acting_as(term: int | None) -> Iterator[None]:
    """Transactions committed in this context, and in the tasks it starts, are fenced by
    `term` (None: not at all, as outside a leader's duties)."""
    token = _term.set(term)
    try:
        yield
    finally:
        _term.reset(token)


def current_term() -> int | None:
    return _term.get()


class FencedSession(Session):
    """The ORM session of the platform: commits in a leader's context are fenced."""


@event.listens_for(FencedSession, "before_commit")
def _refuse_if_deposed(session: Session) -> None:
    term = _term.get()
    if term is None:
        return
    # Run in the session's greenlet, in the calling task's context (SQLAlchemy carries it).
    current: Any = session.execute(_READ).scalar()
    if current != term:
        raise Deposed(term, current)
