"""Clusters and resource presets as the server advertises them (docs/protocol.md §2.1)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from yarl import URL

_MIB = 2**20


@dataclass(frozen=True)
class Preset:
    """A job resource configuration offered by a cluster; the mapping key is its name."""

    credits_per_hour: Decimal
    cpu: float
    memory_mb: int
    scheduler_enabled: bool = False
    preemptible_node: bool = False
    gpu: int | None = None
    gpu_model: str | None = None
    tpu_type: str | None = None
    tpu_software_version: str | None = None

    @property
    def is_preemptible(self) -> bool:
        """Documented alias of ``scheduler_enabled``."""
        return self.scheduler_enabled

    @property
    def is_preemptible_node_required(self) -> bool:
        """Legacy alias of ``preemptible_node``."""
        return self.preemptible_node

    @property
    def memory(self) -> int:
        """Memory in bytes."""
        return self.memory_mb * _MIB


@dataclass(frozen=True)
class Cluster:
    """A cluster the user may run jobs on, with the URLs of its services."""

    name: str
    orgs: Sequence[str | None]
    registry_url: URL
    storage_url: URL
    users_url: URL
    monitoring_url: URL
    secrets_url: URL
    disks_url: URL
    buckets_url: URL
    presets: Mapping[str, Preset] = field(default_factory=dict)
