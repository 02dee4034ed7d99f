"""The resource preset entity: a named bundle of resources a job can ask for."""

from __future__ import annotations

from collections.abc import Sequence
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


def default_preset(presets: Sequence[Preset]) -> Preset:
    """The preset a job gets when it names none: the cluster's first (settings refuse a
    cluster without presets)."""
    return presets[0]


def preset_named(presets: Sequence[Preset], name: str) -> Preset | None:
    return next((p for p in presets if p.name == name), None)
