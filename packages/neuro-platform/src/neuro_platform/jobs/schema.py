"""The wire shapes of the jobs API (docs/protocol.md §3.1, 3.3) as pydantic models: types and
bounds.

Validated at the edge (`api/validation.py`) and published in `/api/v1/openapi.json`: every
rule about one field is here, so `submission.py` reads typed values and only adds the rules
across fields (presets, clusters, unique mount points). What can only go wrong when a job
starts is refused here, at submission: NUL characters (Docker and the kernel cannot take
them), mount points that would hide or break the container's own system (`/`, `/proc`,
`/sys`, `/dev`, `/etc/hosts`), image names that are not Docker references and command lines
that do not split into words.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..api.validation import BIG_INT
from .entities import MIB

# 100 years: far beyond any real job, and small enough that adding to it stays in range.
MAX_RUN_TIME_MINUTES = 100 * 365 * 24 * 60
MAX_CPU = 4096.0
MAX_GPU = 1024
MAX_TEXT = 64 * 1024
NO_NUL = r"^[^\x00]*$"
MIN_CPU = 0.1
MIN_MEMORY = 16 * MIB
MAX_TAGS = 16
MAX_TAG_LENGTH = 256
MAX_SCHEDULE_TIMEOUT_S = 30 * 24 * 3600
JOB_NAME = re.compile(r"^[a-z](?:-?[a-z0-9])*$")
JOB_NAME_LENGTH = (3, 40)

# A Docker reference (distribution/reference's grammar without IPv6 hosts):
# [host[:port]/]path[:tag][@digest], path components lowercase. As in Docker, a first
# component is a host only with a dot, a port, or as `localhost`.
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_PORT = r":[0-9]{1,5}"
_HOST = rf"(?:(?:{_LABEL}(?:\.{_LABEL})+|localhost)(?:{_PORT})?|{_LABEL}{_PORT})"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = (
    rf"^(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
# Mounting over these breaks the container or hides what the platform mounts there.
RESERVED_MOUNT_POINTS = ("/", "/proc", "/sys", "/dev", "/etc/hosts")
_RESERVED_TREES = ("/proc/", "/sys/")

Text = Annotated[str, Field(max_length=MAX_TEXT, pattern=NO_NUL)]
EnvName = Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[^=\x00]+$")]
Image = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1024,
        pattern=IMAGE_REFERENCE,
        description="A Docker reference: [host[:port]/]name[:tag][@digest]",
    ),
]


def _absolute(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError("must be an absolute path")
    return path


def _mount_point(path: str) -> str:
    normal = posixpath.normpath(_absolute(path))
    normal = "/" if normal == "//" else normal  # normpath keeps a leading "//"
    if normal in RESERVED_MOUNT_POINTS or normal.startswith(_RESERVED_TREES):
        raise ValueError(f"{path!r} cannot be a mount point ({', '.join(RESERVED_MOUNT_POINTS)})")
    return path


def _uri_of(*schemes: str) -> AfterValidator:
    def check(uri: str) -> str:
        if not uri.startswith(tuple(f"{scheme}://" for scheme in schemes)):
            raise ValueError(f"must be a {' or '.join(f'{s}://' for s in schemes)} URI")
        return uri

    return AfterValidator(check)


def _shell_words(value: str) -> str:
    try:
        shlex.split(value)
    except ValueError as e:
        raise ValueError(f"not a valid shell command line: {e}") from e
    return value


def _job_name(value: str) -> str:
    low, high = JOB_NAME_LENGTH
    if not low <= len(value) <= high or not JOB_NAME.match(value):
        raise ValueError(
            f"Invalid job name {value!r}: {low}-{high} characters, lowercase letters, digits "
            "and single dashes, starting with a letter"
        )
    return value


def _tag(value: str) -> str:
    if not 1 <= len(value) <= MAX_TAG_LENGTH or any(c.isspace() for c in value):
        raise ValueError(f"Invalid tag {value!r}: 1-{MAX_TAG_LENGTH} non-space characters")
    return value


def _cpu(value: float) -> float:
    if value < MIN_CPU:
        raise ValueError(f"cpu must be a number >= {MIN_CPU}")
    return value


def _memory(value: int) -> int:
    if value < MIN_MEMORY:
        raise ValueError(f"memory must be at least {MIN_MEMORY // MIB} MiB")
    return value


def _memory_mb(value: int) -> int:
    _memory(value * MIB)
    return value


def _schedule_timeout(value: float) -> float:
    if not 1 <= value < MAX_SCHEDULE_TIMEOUT_S:
        raise ValueError("schedule_timeout must be at least 1 second and under 30 days")
    return value


AbsolutePath = Annotated[Text, AfterValidator(_absolute)]
MountPath = Annotated[Text, AfterValidator(_mount_point)]
ShellWords = Annotated[Text, AfterValidator(_shell_words)]
Tag = Annotated[Text, AfterValidator(_tag)]


class _Strict(BaseModel):
    # Strict: JSON's "1" is not a number and 1 is not true. Unknown keys are ignored, as
    # clients of other versions send fields this server does not know.
    model_config = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False)


class ResourcesBody(_Strict):
    # Extra keys are kept: with a preset, any key but `shm` is refused by `submission.py`.
    model_config = ConfigDict(extra="allow")

    cpu: Annotated[float, Field(le=MAX_CPU), AfterValidator(_cpu)] | None = None
    memory: Annotated[int, Field(le=BIG_INT), AfterValidator(_memory)] | None = None
    memory_mb: Annotated[int, Field(le=BIG_INT // MIB), AfterValidator(_memory_mb)] | None = None
    gpu: Annotated[int, Field(ge=0, le=MAX_GPU)] | None = None
    gpu_model: Text | None = None
    shm: bool | None = None
    tpu: dict[str, Any] | None = None


class HttpBody(_Strict):
    port: Annotated[int, Field(ge=1, le=65535)]
    requires_auth: bool = True
    health_check_path: AbsolutePath = "/"


class StorageVolumeBody(_Strict):
    src_storage_uri: Annotated[Text, _uri_of("storage")]
    dst_path: MountPath
    read_only: bool = True


class SecretVolumeBody(_Strict):
    src_secret_uri: Annotated[Text, _uri_of("secret")]
    dst_path: MountPath


class DiskVolumeBody(_Strict):
    src_disk_uri: Annotated[Text, _uri_of("disk")]
    dst_path: MountPath
    read_only: bool = True


class ContainerBody(_Strict):
    image: Image | None = None
    entrypoint: ShellWords | None = None
    command: ShellWords | None = None
    working_dir: AbsolutePath | None = None
    env: dict[EnvName, Text] | None = None
    # A `blob://` URI gives the variable a bucket's credentials (docs/jobs.md).
    secret_env: dict[EnvName, Annotated[Text, _uri_of("secret", "blob")]] | None = None
    volumes: Annotated[list[StorageVolumeBody], Field(max_length=256)] | None = None
    secret_volumes: Annotated[list[SecretVolumeBody], Field(max_length=256)] | None = None
    disk_volumes: Annotated[list[DiskVolumeBody], Field(max_length=256)] | None = None
    http: HttpBody | None = None
    tty: bool | None = None
    resources: ResourcesBody | None = None


class JobSubmissionBody(ContainerBody):
    """`POST /jobs`: job fields, and the container's either flat (`?from_preset`) or nested."""

    container: ContainerBody | None = None
    cluster_name: Text | None = None
    org_name: Text | None = None
    name: Annotated[Text, AfterValidator(_job_name)] | None = None
    preset_name: Text | None = None
    description: Text | None = None
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] | None = None
    schedule_timeout: Annotated[float, AfterValidator(_schedule_timeout)] | None = None
    restart_policy: Literal["never", "on-failure", "always"] | None = None
    max_run_time_minutes: Annotated[int, Field(ge=1, le=MAX_RUN_TIME_MINUTES)] | None = None
    wait_for_jobs_quota: bool | None = None
    privileged: bool | None = None
    priority: Literal["low", "normal", "high"] | None = None
    pass_config: bool | None = None
    scheduler_enabled: bool | None = None
    is_preemptible: bool | None = None
    preemptible_node: bool | None = None
    is_preemptible_node_required: bool | None = None


class LifeSpanBody(_Strict):
    """`PUT /jobs/{id}/max_run_time_minutes`: exactly one of the two."""

    additional_max_run_time_minutes: Annotated[int, Field(ge=1, le=MAX_RUN_TIME_MINUTES)] | None = (
        None
    )
    max_run_time_minutes: Annotated[int, Field(ge=1, le=MAX_RUN_TIME_MINUTES)] | None = None


class JobListQuery(_Strict):
    """`GET /jobs`: filters; each may repeat where it is a list."""

    model_config = ConfigDict(strict=False)  # query values are all text

    status: list[Text] = Field(default_factory=list)
    owner: list[Text] = Field(default_factory=list)
    tag: list[Text] = Field(default_factory=list)
    name: Text | None = None
    cluster_name: Text | None = None
    org_name: Text | None = None
    since: Text | None = None
    until: Text | None = None
    reverse: Text | None = None
    limit: Annotated[int, Field(ge=1, le=BIG_INT)] | None = None
    being_dropped: Text | None = None
    logs_removed: Text | None = None
