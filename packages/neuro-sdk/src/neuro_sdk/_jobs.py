"""Jobs API: start, list, kill, logs (wire spec 3 and 4).

The methods and entities come with the jobs issue; until then the documented names exist
as placeholders so the public surface is complete."""

import enum
from abc import ABC

from ._config import Config
from ._core import _Core


class Jobs:
    """Jobs API: start, list, kill, logs, available on the client."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config


class Container:
    """Placeholder: defined by the jobs issue."""


class HTTPPort:
    """Placeholder: defined by the jobs issue."""


class JobDescription:
    """Placeholder: defined by the jobs issue."""


class JobStatusItem:
    """Placeholder: defined by the jobs issue."""


class JobStatusHistory:
    """Placeholder: defined by the jobs issue."""


class JobTelemetry:
    """Placeholder: defined by the jobs issue."""


class Message:
    """Placeholder: defined by the jobs issue."""


class Resources:
    """Placeholder: defined by the jobs issue."""


class Volume:
    """Placeholder: defined by the jobs issue."""


class SecretFile:
    """Placeholder: defined by the jobs issue."""


class DiskVolume:
    """Placeholder: defined by the jobs issue."""


class StdStream(ABC):  # noqa: B024
    """Placeholder: the callback methods come with the jobs issue."""


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


class JobPriority(enum.IntEnum):
    """Ordered, so that priorities compare; the wire form is the lower-case name."""

    LOW = 1
    NORMAL = 2
    HIGH = 3
