"""Jobs to and from the JSON kept in the database (the `request` and `statuses` columns)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .entities import (
    Container,
    DiskVolume,
    HttpPort,
    JobStatus,
    Resources,
    RestartPolicy,
    SecretVolume,
    StatusItem,
    StorageVolume,
)


def encode_status(item: StatusItem) -> dict[str, Any]:
    return {
        "status": str(item.status),
        "transition_time": item.transition_time.isoformat(),
        "reason": item.reason,
        "description": item.description,
        "exit_code": item.exit_code,
    }


def decode_status(data: dict[str, Any]) -> StatusItem:
    return StatusItem(
        status=JobStatus(data["status"]),
        transition_time=datetime.fromisoformat(data["transition_time"]),
        reason=data.get("reason"),
        description=data.get("description"),
        exit_code=data.get("exit_code"),
    )


def encode_container(container: Container) -> dict[str, Any]:
    r = container.resources
    return {
        "image": container.image,
        "entrypoint": container.entrypoint,
        "command": container.command,
        "working_dir": container.working_dir,
        "env": dict(container.env),
        "volumes": [
            {"src_storage_uri": v.src_storage_uri, "dst_path": v.dst_path, "read_only": v.read_only}
            for v in container.volumes
        ],
        "secret_env": dict(container.secret_env),
        "secret_volumes": [
            {"src_secret_uri": v.src_secret_uri, "dst_path": v.dst_path}
            for v in container.secret_volumes
        ],
        "disk_volumes": [
            {
                "src_disk_uri": v.src_disk_uri,
                "dst_path": v.dst_path,
                "read_only": v.read_only,
                "disk_id": v.disk_id,
            }
            for v in container.disk_volumes
        ],
        "http": None
        if container.http is None
        else {
            "port": container.http.port,
            "requires_auth": container.http.requires_auth,
            "health_check_path": container.http.health_check_path,
        },
        "tty": container.tty,
        "resources": {
            "cpu": r.cpu,
            "memory": r.memory,
            "gpu": r.gpu,
            "gpu_model": r.gpu_model,
            "shm": r.shm,
        },
    }


def decode_container(data: dict[str, Any]) -> Container:
    r = data["resources"]
    http = data.get("http")
    return Container(
        image=data["image"],
        entrypoint=data.get("entrypoint"),
        command=data.get("command"),
        working_dir=data.get("working_dir"),
        env=dict(data.get("env") or {}),
        volumes=tuple(StorageVolume(**v) for v in data.get("volumes") or ()),
        secret_env=dict(data.get("secret_env") or {}),
        secret_volumes=tuple(SecretVolume(**v) for v in data.get("secret_volumes") or ()),
        disk_volumes=tuple(DiskVolume(**v) for v in data.get("disk_volumes") or ()),
        http=None if http is None else HttpPort(**http),
        tty=bool(data.get("tty")),
        resources=Resources(
            cpu=r["cpu"], memory=r["memory"], gpu=r["gpu"], gpu_model=r["gpu_model"], shm=r["shm"]
        ),
    )


def encode_options(
    *,
    container: Container,
    description: str | None,
    tags: tuple[str, ...],
    preset_name: str | None,
    scheduler_enabled: bool,
    preemptible_node: bool,
    pass_config: bool,
    privileged: bool,
    restart_policy: RestartPolicy,
    schedule_timeout: float | None,
    wait_for_jobs_quota: bool,
) -> dict[str, Any]:
    return {
        "container": encode_container(container),
        "description": description,
        "tags": list(tags),
        "preset_name": preset_name,
        "scheduler_enabled": scheduler_enabled,
        "preemptible_node": preemptible_node,
        "pass_config": pass_config,
        "privileged": privileged,
        "restart_policy": str(restart_policy),
        "schedule_timeout": schedule_timeout,
        "wait_for_jobs_quota": wait_for_jobs_quota,
    }
