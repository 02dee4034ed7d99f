"""A bucket and a set of credentials as the service sees them (docs/protocol.md §8.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..permissions.uris import owned_uri


@dataclass(frozen=True)
class Bucket:
    id: str
    cluster_name: str
    org_name: str | None
    owner: str
    name: str | None
    provider: str
    provider_bucket: str
    imported: bool
    public: bool
    created_at: datetime

    def uri(self, by_id: bool = False) -> str:
        """`blob://<cluster>/[<org>/]<owner>/<name or id>`; a grant on either form counts."""
        last = self.id if by_id or self.name is None else self.name
        return str(owned_uri("blob", self.cluster_name, self.owner, self.org_name, last))


@dataclass(frozen=True)
class StoredCredentials:
    id: str
    cluster_name: str
    owner: str
    name: str | None
    persistent: bool
    read_only: bool
    bucket_ids: tuple[str, ...]
    store_user: str
    access_key_id: str
    secret_ciphertext: bytes
    expires_at: datetime | None
