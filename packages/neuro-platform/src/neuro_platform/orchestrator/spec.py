"""What the scheduler asks the runtime to run: one container per job, engine-independent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class BindMount:
    """A host directory or file (e.g. a user's storage folder) seen inside the container."""

    host_path: Path
    container_path: PurePosixPath
    read_only: bool = True


@dataclass(frozen=True)
class VolumeMount:
    """A named engine volume (e.g. a persistent disk) seen inside the container."""

    volume_name: str
    container_path: PurePosixPath
    read_only: bool = False


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials the engine sends to a registry (`X-Registry-Auth`) to pull or push."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to start a job's container.

    `entrypoint` and `command` are argument lists: the jobs service splits the shell-like
    strings of the wire protocol. `None` keeps the image's own ENTRYPOINT/CMD.

    `shm`: False keeps the engine's small default /dev/shm, True sizes it like the job's
    memory limit (what a job asking for shared memory expects), an int is a size in bytes.

    `gpu_model` only documents the request: one engine node has one kind of GPU, and the
    scheduler has already picked the node by model.
    """

    job_id: str
    owner: str
    image: str
    cpu: float
    memory: int
    entrypoint: tuple[str, ...] | None = None
    command: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    working_dir: str | None = None
    shm: bool | int = False
    gpu: int = 0
    gpu_model: str | None = None
    tty: bool = False
    privileged: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    bind_mounts: tuple[BindMount, ...] = ()
    volume_mounts: tuple[VolumeMount, ...] = ()
    # Supplementary group ids of the container's processes, whatever user the image names.
    groups: tuple[int, ...] = ()
    hostname: str | None = None
    # The engine network the container starts on (its owner's); None: the engine's default.
    network: str | None = None
    # The job may be preempted (a scheduled, preemptible job): an engine with preemption of
    # its own (Slurm: `preemptible_partition`) places it where that can happen.
    preemptible: bool = False
    # The platform's scheduler orders and ends jobs itself on every engine; an engine with a
    # queue of its own (Slurm) is told too: the job's priority rank (0 low, 1 normal, 2 high)
    # and the rest of its life span, a limit it enforces even while the platform is down.
    priority_rank: int = 1
    time_limit_s: float | None = None
    # Set for an image of the platform's own registry: the image is then pulled with these
    # credentials on every start, so a copy cached by the engine never stands in for a
    # permission check (docs/protocol.md §6).
    registry_auth: RegistryAuth | None = None
