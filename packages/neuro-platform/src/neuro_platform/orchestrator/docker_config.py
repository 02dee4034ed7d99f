"""Translation of a ContainerSpec into a Docker Engine create request (API 1.41)."""

from __future__ import annotations

from typing import Any

from .naming import (
    LABEL_INSTANCE,
    LABEL_JOB_ID,
    LABEL_OWNER,
    RESERVED_LABEL_PREFIX,
    network_name,
)
from .spec import ContainerSpec

NANO_CPUS_PER_CORE = 1_000_000_000
# A setuid binary in a job's image (sudo, su, ping...) cannot gain privileges its process
# lacks. Seccomp is left at the engine's default profile: never `seccomp=unconfined`.
SECURITY_OPTIONS = ("no-new-privileges:true",)


def container_labels(spec: ContainerSpec, instance: str) -> dict[str, str]:
    # The platform's own labels are applied last: a job cannot pose as another job or owner.
    labels = {k: v for k, v in spec.labels.items() if not k.startswith(RESERVED_LABEL_PREFIX)}
    labels[LABEL_INSTANCE] = instance
    labels[LABEL_JOB_ID] = spec.job_id
    labels[LABEL_OWNER] = spec.owner
    if spec.gpu_model:
        labels["platform.neuro.gpu-model"] = spec.gpu_model
    return labels


def _shm_size(spec: ContainerSpec) -> int | None:
    if spec.shm is True:
        return spec.memory
    if spec.shm is False:
        return None  # the engine's default (64 MiB)
    return spec.shm


def _mounts(spec: ContainerSpec) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = [
        {
            "Type": "bind",
            "Source": str(mount.host_path),
            "Target": str(mount.container_path),
            "ReadOnly": mount.read_only,
        }
        for mount in spec.bind_mounts
    ]
    mounts.extend(
        {
            "Type": "volume",
            "Source": mount.volume_name,
            "Target": str(mount.container_path),
            "ReadOnly": mount.read_only,
        }
        for mount in spec.volume_mounts
    )
    return mounts


def _host_config(spec: ContainerSpec, pids_limit: int) -> dict[str, Any]:
    host_config: dict[str, Any] = {
        "NanoCpus": round(spec.cpu * NANO_CPUS_PER_CORE),
        "Memory": spec.memory,
        # Swap equal to the limit means no swap at all: a job over its memory is OOM-killed
        # (reason OOMKilled) instead of crawling on swap.
        "MemorySwap": spec.memory,
        "Privileged": spec.privileged,
        "SecurityOpt": list(SECURITY_OPTIONS),
        "PidsLimit": pids_limit,
        # A tiny init as PID 1 forwards SIGTERM to the job and reaps zombies, so `neuro kill`
        # stops a shell-script job at once instead of waiting for the SIGKILL deadline.
        "Init": True,
        # Restarts are the scheduler's decision (restart policies are counted in the DB).
        "RestartPolicy": {"Name": "no"},
        "Mounts": _mounts(spec),
        # The "local" driver keeps output as bytes (json-file turns invalid UTF-8 into U+FFFD)
        # and bounds the disk a chatty job can fill: the current file of 100 MB and four
        # compressed ones. Complete logs are `jobs.log_archiver`'s, which reads them while
        # the job runs: this is its slack when a job prints faster than the engine reads back.
        "LogConfig": {"Type": "local", "Config": {"max-size": "100m", "max-file": "5"}},
    }
    if spec.groups:
        host_config["GroupAdd"] = [str(gid) for gid in spec.groups]
    shm_size = _shm_size(spec)
    if shm_size is not None:
        host_config["ShmSize"] = shm_size
    if spec.gpu > 0:
        host_config["DeviceRequests"] = [
            {"Driver": "", "Count": spec.gpu, "DeviceIDs": None, "Capabilities": [["gpu"]]}
        ]
    return host_config


def create_config(spec: ContainerSpec, instance: str, *, pids_limit: int) -> dict[str, Any]:
    config: dict[str, Any] = {
        "Image": spec.image,
        "Env": [f"{name}={value}" for name, value in spec.env.items()],
        "Tty": spec.tty,
        # A terminal job is one a user attaches to and types into: keep its stdin open.
        "OpenStdin": spec.tty,
        "Labels": container_labels(spec, instance),
        "HostConfig": _host_config(spec, pids_limit),
    }
    if spec.network is not None:
        config["HostConfig"]["NetworkMode"] = network_name(instance, spec.network)
    if spec.entrypoint is not None:
        config["Entrypoint"] = list(spec.entrypoint)
    if spec.command is not None:
        config["Cmd"] = list(spec.command)
    if spec.working_dir:
        config["WorkingDir"] = spec.working_dir
    if spec.hostname:
        config["Hostname"] = spec.hostname
    return config
