"""Reading Docker Engine answers (inspect, stats) into the runtime's engine-free types."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .reasons import JobReason
from .state import ContainerPhase, ContainerState, ContainerStats

_RUNNING_STATUSES = frozenset({"running", "paused", "restarting"})


def _timestamp(value: str | None) -> datetime | None:
    # Docker writes "0001-01-01T00:00:00Z" for "never".
    if not value or value.startswith("0001-"):
        return None
    return datetime.fromisoformat(value)


def state_from_inspect(
    job_id: str, info: Mapping[str, Any], network_prefix: str = ""
) -> ContainerState:
    """`network_prefix`: `addresses` names only the networks whose name starts with it,
    without it (the platform's own networks, by the names the platform gave them)."""
    state = info["State"]
    status: str = state["Status"]
    started_at = _timestamp(state.get("StartedAt"))
    error: str = state.get("Error") or ""
    if status in _RUNNING_STATUSES:
        addresses = _addresses(info)
        return ContainerState(
            job_id,
            ContainerPhase.RUNNING,
            started_at=started_at,
            address=_address(info, addresses),
            addresses={
                name.removeprefix(network_prefix): address
                for name, address in addresses.items()
                if name.startswith(network_prefix)
            },
        )
    if status == "created" and not error:
        return ContainerState(job_id, ContainerPhase.PENDING, reason=JobReason.CONTAINER_CREATING)
    # exited, dead, removing -- or "created" with an error: the engine could not start it.
    exit_code: int = state.get("ExitCode", 0)
    oom_killed: bool = state.get("OOMKilled", False)
    if error:
        reason, message = JobReason.CONTAINER_CANNOT_RUN, error
    elif oom_killed:
        reason, message = JobReason.OOM_KILLED, None
    elif exit_code == 0:
        reason, message = JobReason.COMPLETED, None
    else:
        reason, message = JobReason.ERROR, None
    return ContainerState(
        job_id,
        ContainerPhase.EXITED,
        exit_code=exit_code,
        oom_killed=oom_killed,
        reason=reason,
        message=message,
        started_at=started_at,
        finished_at=_timestamp(state.get("FinishedAt")),
    )


def _addresses(info: Mapping[str, Any]) -> dict[str, str]:
    networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
    return {name: str(n["IPAddress"]) for name, n in networks.items() if n.get("IPAddress")}


def _address(info: Mapping[str, Any], addresses: Mapping[str, str]) -> str | None:
    # The address on the network the container started on (its owner's), even once it has
    # joined other users' networks too: that one is stable for its whole run.
    primary = str((info.get("HostConfig") or {}).get("NetworkMode"))
    if primary in addresses:
        return addresses[primary]
    if addresses:
        return next(iter(addresses.values()))
    return (info.get("NetworkSettings") or {}).get("IPAddress") or None


def stats_from_sample(sample: Mapping[str, Any]) -> ContainerStats:
    """Cores and memory the way `docker stats` computes them.

    CPU: the container's share of host CPU time between the two samples Docker puts in one
    answer, times the host's CPUs. Memory: usage minus the reclaimable page cache.
    """
    cpu_now, cpu_before = sample["cpu_stats"], sample.get("precpu_stats") or {}
    container_delta = cpu_now["cpu_usage"]["total_usage"] - cpu_before.get("cpu_usage", {}).get(
        "total_usage", 0
    )
    system_delta = cpu_now.get("system_cpu_usage", 0) - cpu_before.get("system_cpu_usage", 0)
    online_cpus = cpu_now.get("online_cpus") or len(cpu_now["cpu_usage"].get("percpu_usage") or [1])
    cores = container_delta / system_delta * online_cpus if system_delta > 0 else 0.0

    memory = sample.get("memory_stats") or {}
    details = memory.get("stats") or {}
    # cgroup v1 reports total_inactive_file, cgroup v2 inactive_file.
    inactive_file = details.get("total_inactive_file", details.get("inactive_file", 0))
    memory_bytes = max(0, memory.get("usage", 0) - inactive_file)
    return ContainerStats(cpu=max(0.0, cores), memory_bytes=memory_bytes)
