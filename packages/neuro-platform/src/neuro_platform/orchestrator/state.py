"""What the runtime reports about a job's container."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .reasons import JobReason


class ContainerPhase(StrEnum):
    PENDING = "pending"  # created, not started yet
    RUNNING = "running"
    EXITED = "exited"


@dataclass(frozen=True)
class ContainerState:
    job_id: str
    phase: ContainerPhase
    exit_code: int | None = None
    oom_killed: bool = False
    reason: JobReason | None = None
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Where the platform and other jobs reach a running container (None when it has none).
    address: str | None = None
    # Its address on each engine network it is attached to, by network name.
    addresses: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_finished(self) -> bool:
        return self.phase is ContainerPhase.EXITED


@dataclass(frozen=True)
class ContainerStats:
    """A sample of resource usage, as `neuro top` shows it."""

    cpu: float  # cores in use, e.g. 0.5 for half a core
    memory_bytes: int
    # Only for a job with GPUs whose processes use them.
    gpu_duty_cycle: int | None = None  # percent
    gpu_memory_bytes: int | None = None
