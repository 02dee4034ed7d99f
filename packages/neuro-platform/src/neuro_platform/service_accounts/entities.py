"""A service account: a role below its owner with a token for automation (docs/protocol.md §8.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ServiceAccount:
    id: str
    owner: str
    name: str | None
    role: str
    default_cluster: str
    created_at: datetime
