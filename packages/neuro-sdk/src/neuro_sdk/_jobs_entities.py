"""The documented job dataclasses and enums (reference: "Jobs API Reference").

Memory follows the 22.6 SDK the reference describes: ``Resources(memory_mb=..., cpu=...)``
and ``JobTelemetry.memory`` in megabytes; byte-valued properties are there for callers
that think in bytes.
"""

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from yarl import URL

from ._images_refs import RemoteImage

MIB = 2**20


class JobStatus(enum.StrEnum):
    """The state of a job; ``UNKNOWN`` stands for a status this SDK does not know."""

    PENDING = "pending"
    SUSPENDED = "suspended"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @property
    def is_pending(self) -> bool:
        return self in (JobStatus.PENDING, JobStatus.SUSPENDED)

    @property
    def is_running(self) -> bool:
        return self is JobStatus.RUNNING

    @property
    def is_finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)

    @classmethod
    def items(cls) -> set["JobStatus"]:
        return {status for status in cls if status is not cls.UNKNOWN}

    @classmethod
    def active_items(cls) -> set["JobStatus"]:
        return {status for status in cls.items() if not status.is_finished}

    @classmethod
    def finished_items(cls) -> set["JobStatus"]:
        return {status for status in cls.items() if status.is_finished}


class JobRestartPolicy(enum.StrEnum):
    NEVER = "never"
    ON_FAILURE = "on-failure"
    ALWAYS = "always"

    def __repr__(self) -> str:
        # As the original: the value, so signatures show `restart_policy='never'`.
        return repr(self.value)


class JobPriority(enum.IntEnum):
    """Ordered, so that priorities compare; the wire form is the lower-case name."""

    LOW = 1
    NORMAL = 2
    HIGH = 3


@dataclass(frozen=True)
class Resources:
    memory_mb: int
    cpu: float
    gpu: int | None = None
    gpu_model: str | None = None
    shm: bool = True
    tpu_type: str | None = None
    tpu_software_version: str | None = None

    @property
    def memory(self) -> int:
        """Memory in bytes."""
        return self.memory_mb * MIB


@dataclass(frozen=True)
class HTTPPort:
    port: int
    requires_auth: bool = True


@dataclass(frozen=True)
class Volume:
    storage_uri: URL
    container_path: str
    read_only: bool = False


@dataclass(frozen=True)
class SecretFile:
    secret_uri: URL
    container_path: str


@dataclass(frozen=True)
class DiskVolume:
    disk_uri: URL
    container_path: str
    read_only: bool = False


@dataclass(frozen=True)
class Container:
    image: RemoteImage
    resources: Resources
    entrypoint: str | None = None
    command: str | None = None
    working_dir: str | None = None
    http: HTTPPort | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    volumes: Sequence[Volume] = field(default_factory=list)
    secret_env: Mapping[str, URL] = field(default_factory=dict)
    secret_files: Sequence[SecretFile] = field(default_factory=list)
    disk_volumes: Sequence[DiskVolume] = field(default_factory=list)
    tty: bool = False


@dataclass(frozen=True)
class JobStatusItem:
    status: JobStatus
    transition_time: datetime
    reason: str = ""
    description: str = ""
    exit_code: int | None = None


@dataclass(frozen=True)
class JobStatusHistory:
    status: JobStatus
    reason: str
    description: str
    restarts: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    run_time_seconds: float | None = None
    exit_code: int | None = None
    transitions: Sequence[JobStatusItem] = field(default_factory=list)

    @property
    def changed_at(self) -> datetime:
        """When the job entered its current status."""
        if self.status is JobStatus.PENDING:
            when = self.created_at
        elif self.status in (JobStatus.RUNNING, JobStatus.SUSPENDED):
            when = self.started_at
        elif self.status.is_finished:
            when = self.finished_at
        else:
            when = None
        if when is None and self.transitions:
            when = self.transitions[-1].transition_time
        if when is None:
            raise ValueError(f"No time is known for the status {self.status}")
        return when


@dataclass(frozen=True)
class JobDescriptionInternal:
    """Platform bookkeeping; not for user code."""

    materialized: bool = False
    being_dropped: bool = False
    logs_removed: bool = False


@dataclass(frozen=True)
class JobDescription:
    id: str
    owner: str
    cluster_name: str
    status: JobStatus
    history: JobStatusHistory
    container: Container
    scheduler_enabled: bool
    pass_config: bool
    uri: URL
    total_price_credits: Decimal
    price_credits_per_hour: Decimal
    name: str | None = None
    tags: Sequence[str] = ()
    description: str | None = None
    # URL is immutable: one shared empty default is safe (and its repr is the original's).
    http_url: URL = URL()  # noqa: RUF009
    internal_hostname: str | None = None
    internal_hostname_named: str | None = None
    restart_policy: JobRestartPolicy = JobRestartPolicy.NEVER
    life_span: float | None = None
    schedule_timeout: float | None = None
    preset_name: str | None = None
    org_name: str | None = None
    preemptible_node: bool = False
    privileged: bool = False
    priority: JobPriority = JobPriority.NORMAL
    _internal: JobDescriptionInternal = JobDescriptionInternal()
    # Later than 22.6.3 (the reference documents it): after the original's fields, so that
    # positional construction keeps working.
    ssh_server: URL = URL()  # noqa: RUF009


@dataclass(frozen=True)
class JobTelemetry:
    cpu: float
    memory: float  # megabytes
    timestamp: float
    gpu_duty_cycle: int | None = None
    gpu_memory: float | None = None

    @property
    def memory_bytes(self) -> int:
        return round(self.memory * MIB)


@dataclass(frozen=True)
class Message:
    """A chunk of a job's output stream (``fileno`` 1 is stdout, 2 is stderr)."""

    fileno: int
    data: bytes


class StdStream(ABC):
    """The standard streams of an attached job or exec session (docs/protocol.md §4.1)."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def read_out(self) -> Message | None: ...

    @abstractmethod
    async def write_in(self, data: bytes) -> None: ...

    @abstractmethod
    async def resize(self, h: int, w: int) -> None:
        """Tell the job's terminal its new size (tty sessions only)."""
