"""Short-lived caches of who exists and who holds what, exact for this process's own changes.

Every storage request used to ask the database three times (does the token's user exist,
which roles do they belong to, which grants do those roles hold) before touching a file; with
thousands of small files that was most of the server's time. The answers change rarely, so
they are cached here, under two rules:

* Changes made by this process are seen at once. Every write to the tables that decide
  identity and permissions (`WATCHED_TABLES`), through any SQLAlchemy session of this process
  and whichever module makes it (sharing, roles, service accounts, user removal), counts as a
  change once it commits; an answer loaded before the latest change is never served again. So
  a revoke answered by this server takes effect on the very next request.
* Changes made by other processes cannot be noticed that way. The admin CLI announces its
  own (a user removal) through `auth/account_changes.py`, which bumps the generation at once;
  for the rest (a second server on the same database) every cached answer expires
  `CACHE_TTL_S` seconds after it was loaded, which bounds how long a change may go unseen.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

CACHE_TTL_S = 5.0
MAX_CACHE_ENTRIES = 4096
WATCHED_TABLES = frozenset(
    {"users", "roles", "role_memberships", "permission_grants"}
    # The accounts the jobs quota reads at each submission (`jobs/quota.py`).
    | {"admin_cluster_users", "admin_org_users", "admin_org_clusters"}
)
_CHANGED = "neuro_platform.principals_changed"  # the session.info key of a pending change


class ChangeCounter:
    """Counts committed changes to the watched tables made by this process."""

    def __init__(self) -> None:
        self.generation = 0
        # Told of each committed change: servers sharing a database announce it to the others
        # (`composition.py`, docs/scale-out.md), whose caches then drop it on their next request.
        self.on_commit: list[Callable[[], None]] = []

    def bump(self) -> None:
        self.generation += 1

    def committed(self) -> None:
        self.bump()
        for listener in self.on_commit:
            listener()


PRINCIPAL_CHANGES = ChangeCounter()


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    generation: int
    expires_at: float


class PrincipalCache(Generic[K, V]):
    """Remembers loaded answers until a watched table changes or `ttl_s` passes.

    `remember` decides which answers are kept (say, only that a user exists: a user created
    by another process must not wait for a cached "no such user" to expire).
    """

    def __init__(
        self,
        *,
        ttl_s: float = CACHE_TTL_S,
        max_entries: int = MAX_CACHE_ENTRIES,
        remember: Callable[[V], bool] = lambda _: True,
        changes: ChangeCounter = PRINCIPAL_CHANGES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._remember = remember
        self._changes = changes
        self._clock = clock
        self._entries: dict[K, _Entry[V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry.generation == self._changes.generation
            and entry.expires_at > self._clock()
        ):
            return entry.value
        # The generation from before the load: if a change commits while we load, what we
        # loaded may predate it, and it is used for this request only.
        generation = self._changes.generation
        expires_at = self._clock() + self._ttl_s
        value = await load()
        if generation == self._changes.generation and self._remember(value):
            self._entries.pop(key, None)
            while len(self._entries) >= self._max_entries:
                del self._entries[next(iter(self._entries))]  # the oldest
            self._entries[key] = _Entry(value, generation, expires_at)
        return value

    def clear(self) -> None:
        self._entries.clear()


# -- noticing changes -------------------------------------------------------------------------
# Listeners on the Session class see every session of this process, whoever created it.


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in WATCHED_TABLES:
            _note_change(state.session)


@event.listens_for(Session, "after_flush")
def _on_flush(session: Session, _: UOWTransaction) -> None:
    # `new`, `dirty` and `deleted` still hold what this flush wrote.
    for row in (*session.new, *session.dirty, *session.deleted):
        if _table_name(row) in WATCHED_TABLES:
            _note_change(session)
            return


@event.listens_for(Session, "after_commit")
def _on_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        PRINCIPAL_CHANGES.committed()


@event.listens_for(Session, "after_rollback")
def _on_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def _note_change(session: Session) -> None:
    # Counted now too, so an answer loaded while the change is being written is not kept;
    # counted again on commit, which is when other sessions can read it.
    session.info[_CHANGED] = True
    PRINCIPAL_CHANGES.bump()


def _table_name(row: Any) -> str | None:
    table = getattr(type(row), "__table__", None)
    return getattr(table, "name", None)
