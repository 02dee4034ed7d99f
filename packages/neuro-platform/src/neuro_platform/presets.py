"""The resource preset entity: a named bundle of resources a job can ask for."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Preset:
    name: str
    cpu: float
    memory: int  # bytes
    gpu: int | None = None
    gpu_model: str | None = None
    credits_per_hour: Decimal = Decimal("0")
    scheduler_enabled: bool = False
    preemptible_node: bool = False

    @property
    def memory_mb(self) -> int:
        return self.memory // 1024**2
