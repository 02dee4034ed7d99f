"""A disk as the service and the API see it (docs/protocol.md §8.2)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..permissions.uris import owned_uri


class DiskStatus(enum.StrEnum):
    PENDING = "Pending"
    READY = "Ready"
    BROKEN = "Broken"


@dataclass(frozen=True)
class Disk:
    id: str
    cluster_name: str
    org_name: str | None
    owner: str
    name: str | None
    storage: int
    status: DiskStatus
    created_at: datetime
    used_bytes: int | None = None
    last_usage: datetime | None = None
    life_span: timedelta | None = None

    @property
    def uri(self) -> str:
        return str(owned_uri("disk", self.cluster_name, self.owner, self.org_name, self.id))

    def expired(self, now: datetime) -> bool:
        """Unused for longer than its life span (counting from creation if never used)."""
        if self.life_span is None:
            return False
        return (self.last_usage or self.created_at) + self.life_span <= now

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "storage": self.storage,
            "used_bytes": self.used_bytes,
            "owner": self.owner,
            "name": self.name,
            "org_name": self.org_name,
            "status": str(self.status),
            "created_at": self.created_at.isoformat(),
            "last_usage": None if self.last_usage is None else self.last_usage.isoformat(),
            "life_span": None if self.life_span is None else self.life_span.total_seconds(),
        }
