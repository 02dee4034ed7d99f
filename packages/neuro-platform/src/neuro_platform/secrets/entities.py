"""Which secret: (cluster, org, owner, key) (docs/protocol.md §8.1)."""

from __future__ import annotations

from dataclasses import dataclass

from ..permissions.uris import owned_uri


@dataclass(frozen=True)
class SecretRef:
    cluster_name: str
    org_name: str | None
    owner: str
    key: str

    @property
    def uri(self) -> str:
        return str(owned_uri("secret", self.cluster_name, self.owner, self.org_name, self.key))
