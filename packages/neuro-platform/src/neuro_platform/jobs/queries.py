"""How services ask the jobs repository for jobs, and its answer when there is none.

Here rather than in `repository.py` so that handlers, which build a `JobQuery` from the
request's query string, never import the repository.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from ..errors import NotFoundError
from .entities import JobStatus


class JobNotFoundError(NotFoundError):
    pass


class JobNameTakenError(Exception):
    """Another unfinished job of the owner has the new job's name (the database said so)."""


@dataclass(frozen=True)
class JobQuery:
    """What the database can narrow by; the service filters the rest (tags, permissions)."""

    statuses: Collection[JobStatus] = ()
    owners: Collection[str] = ()
    name: str | None = None
    cluster_name: str | None = None
    org_name: str | None = None
    filter_org: bool = False
    since: datetime | None = None
    until: datetime | None = None
    reverse: bool = False


@dataclass(frozen=True)
class ActiveLimit:
    """At most `most` jobs match `query` (the jobs quota of an account: its unfinished jobs).

    `account` names who is limited: inserts under one account take turns, so racing ones
    cannot each count the same headroom. `refusal` is what a refused submission is told."""

    account: str
    query: JobQuery
    most: int
    refusal: str


class ActiveLimitReachedError(Exception):
    """A new job would have taken its account past an `ActiveLimit` (the database said so)."""

    def __init__(self, limit: ActiveLimit) -> None:
        super().__init__(limit.refusal)
        self.limit = limit
