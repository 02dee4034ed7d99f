"""The job entity and its parts, as the service and the scheduler see them (docs/protocol.md
§3.5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ..permissions.uris import ResourceUri, owned_uri

MIB = 1024**2


class JobStatus(StrEnum):
    PENDING = "pending"
    SUSPENDED = "suspended"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        return self in FINISHED_STATUSES


FINISHED_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
ACTIVE_STATUSES = frozenset(set(JobStatus) - FINISHED_STATUSES)


class JobPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Higher starts first; stored in the DB so the scheduler can order by it."""
        return {JobPriority.LOW: 0, JobPriority.NORMAL: 1, JobPriority.HIGH: 2}[self]

    @classmethod
    def from_rank(cls, rank: int) -> JobPriority:
        return next(p for p in cls if p.rank == rank)


class RestartPolicy(StrEnum):
    NEVER = "never"
    ON_FAILURE = "on-failure"
    ALWAYS = "always"


@dataclass(frozen=True)
class StatusItem:
    status: JobStatus
    transition_time: datetime
    reason: str | None = None
    description: str | None = None
    exit_code: int | None = None


@dataclass(frozen=True)
class HttpPort:
    port: int
    requires_auth: bool = True
    health_check_path: str = "/"


@dataclass(frozen=True)
class StorageVolume:
    src_storage_uri: str
    dst_path: str
    read_only: bool = True


@dataclass(frozen=True)
class SecretVolume:
    """A secret's value as a read-only file in the container (written at container start)."""

    src_secret_uri: str
    dst_path: str


@dataclass(frozen=True)
class DiskVolume:
    src_disk_uri: str
    dst_path: str
    read_only: bool = True
    # Resolved at submission: a name may later point at another disk, the id never does.
    disk_id: str = ""


@dataclass(frozen=True)
class Resources:
    cpu: float
    memory: int  # bytes
    gpu: int = 0
    gpu_model: str | None = None
    shm: bool = False

    @property
    def memory_mb(self) -> int:
        return self.memory // MIB


@dataclass(frozen=True)
class Container:
    image: str
    resources: Resources
    entrypoint: str | None = None
    command: str | None = None
    working_dir: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    volumes: tuple[StorageVolume, ...] = ()
    # Variable name -> secret URI; values are looked up only when the container starts.
    secret_env: Mapping[str, str] = field(default_factory=dict)
    secret_volumes: tuple[SecretVolume, ...] = ()
    disk_volumes: tuple[DiskVolume, ...] = ()
    http: HttpPort | None = None
    tty: bool = False


@dataclass(frozen=True)
class JobSpec:
    """What the user asked for (docs/protocol.md §3.1), read from the wire once
    (`schema.py`, then `submission.py`) and stored as one JSON document (`codec.py`).

    Fixed at submission, but for the life span (`PUT .../max_run_time_minutes`). A new
    field takes a default: rows stored before it then read back with that default, so no
    migration is needed.
    """

    container: Container
    name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    preset_name: str | None = None
    scheduler_enabled: bool = False
    preemptible_node: bool = False
    pass_config: bool = False
    privileged: bool = False
    restart_policy: RestartPolicy = RestartPolicy.NEVER
    priority: JobPriority = JobPriority.NORMAL
    schedule_timeout: float | None = None
    max_run_time_minutes: int | None = None
    wait_for_jobs_quota: bool = False


@dataclass(frozen=True)
class Job:
    """A job: its spec, and what the platform made of it (where it runs, for whom, how far
    it got)."""

    id: str
    owner: str
    cluster_name: str
    org_name: str | None
    spec: JobSpec
    created_at: datetime
    statuses: tuple[StatusItem, ...]
    restarts: int = 0
    # True while a container may exist for the job: the scheduler still has to clean it up.
    materialized: bool = False

    @property
    def current(self) -> StatusItem:
        return self.statuses[-1]

    @property
    def status(self) -> JobStatus:
        return self.current.status

    @property
    def is_finished(self) -> bool:
        return self.status.is_finished

    @property
    def uri(self) -> str:
        return str(self.resource_uris[0])

    @property
    def named_uri(self) -> str | None:
        uris = self.resource_uris
        return str(uris[1]) if len(uris) > 1 else None

    @property
    def resource_uris(self) -> tuple[ResourceUri, ...]:
        """The job's URI, then its named URI if it has a name: a grant on either is a grant
        on the job."""
        owned = ("job", self.cluster_name, self.owner, self.org_name)
        if self.spec.name is None:
            return (owned_uri(*owned, self.id),)
        return (owned_uri(*owned, self.id), owned_uri(*owned, self.spec.name))

    @property
    def base_owner(self) -> str:
        # Service accounts are `owner/service-accounts/x`; host names use the first part.
        return self.owner.split("/")[0]

    @property
    def started_at(self) -> datetime | None:
        return next(
            (s.transition_time for s in self.statuses if s.status is JobStatus.RUNNING), None
        )

    @property
    def finished_at(self) -> datetime | None:
        return self.current.transition_time if self.is_finished else None

    @property
    def exit_code(self) -> int | None:
        return self.current.exit_code

    def run_time(self, now: datetime) -> timedelta:
        """Time spent running, over all runs (suspended time does not count)."""
        total = timedelta()
        for item, following in zip(self.statuses, (*self.statuses[1:], None), strict=True):
            if item.status is JobStatus.RUNNING:
                end = following.transition_time if following is not None else now
                total += end - item.transition_time
        return total

    def with_status(self, item: StatusItem) -> Job:
        if item.status is self.status and item.reason == self.current.reason:
            return self
        return replace(self, statuses=(*self.statuses, item))
