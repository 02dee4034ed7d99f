"""The job object of docs/protocol.md §3.5."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from yarl import URL

from .entities import Job, JobStatus
from .host_names import INTERNAL_DOMAIN, http_url, internal_hostnames, named_label


def job_json(
    job: Job, *, public_url: URL, http_domain: str, now: datetime, credits_per_hour: Decimal
) -> dict[str, Any]:
    spec = job.spec
    container = spec.container
    resources = container.resources
    resources_json: dict[str, Any] = {
        "cpu": resources.cpu,
        "memory": resources.memory,
        "memory_mb": resources.memory_mb,
        "shm": resources.shm,
    }
    if resources.gpu:
        resources_json["gpu"] = resources.gpu
    if resources.gpu_model:
        resources_json["gpu_model"] = resources.gpu_model
    container_json: dict[str, Any] = {
        "image": container.image,
        "env": dict(container.env),
        "volumes": [
            {"src_storage_uri": v.src_storage_uri, "dst_path": v.dst_path, "read_only": v.read_only}
            for v in container.volumes
        ],
        "resources": resources_json,
    }
    # URIs only: secret values never leave the server through the API.
    if container.secret_env:
        container_json["secret_env"] = dict(container.secret_env)
    if container.secret_volumes:
        container_json["secret_volumes"] = [
            {"src_secret_uri": v.src_secret_uri, "dst_path": v.dst_path}
            for v in container.secret_volumes
        ]
    if container.disk_volumes:
        container_json["disk_volumes"] = [
            {"src_disk_uri": v.src_disk_uri, "dst_path": v.dst_path, "read_only": v.read_only}
            for v in container.disk_volumes
        ]
    for key in ("command", "entrypoint", "working_dir"):
        if (value := getattr(container, key)) is not None:
            container_json[key] = value
    if container.tty:
        container_json["tty"] = True
    if container.http is not None:
        container_json["http"] = {
            "port": container.http.port,
            "health_check_path": container.http.health_check_path,
            "requires_auth": container.http.requires_auth,
        }

    statuses, history = _statuses_and_history(job, now)
    run_hours = Decimal(history["run_time_seconds"]) / 3600
    body: dict[str, Any] = {
        "id": job.id,
        "owner": job.owner,
        "cluster_name": job.cluster_name,
        "uri": job.uri,
        "status": history["status"],
        "statuses": statuses,
        "history": history,
        "container": container_json,
        "scheduler_enabled": spec.scheduler_enabled,
        "preemptible_node": spec.preemptible_node,
        "is_preemptible": spec.scheduler_enabled,
        "is_preemptible_node_required": spec.preemptible_node,
        "pass_config": spec.pass_config,
        "privileged": spec.privileged,
        "restart_policy": str(spec.restart_policy),
        "priority": str(spec.priority),
        "materialized": job.materialized,
        "being_dropped": False,
        "logs_removed": False,
        "total_price_credits": str(round(run_hours * credits_per_hour, 6)),
        "price_credits_per_hour": str(credits_per_hour),
        "internal_hostname": internal_hostnames(job)[0],
    }
    if job.org_name is not None:
        body["org_name"] = job.org_name
    for key in ("name", "preset_name", "description", "schedule_timeout", "max_run_time_minutes"):
        if (value := getattr(spec, key)) is not None:
            body[key] = value
    if spec.tags:
        body["tags"] = list(spec.tags)
    if (label := named_label(job)) is not None:
        body["internal_hostname_named"] = f"{label}.{INTERNAL_DOMAIN}"
    if container.http is not None:
        body["http_url"] = str(http_url(public_url, http_domain, job.id))
        if label is not None:
            body["http_url_named"] = str(http_url(public_url, http_domain, label))
    return body


def _statuses_and_history(job: Job, now: datetime) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`statuses` and `history`, in one walk of the transitions: each time is formatted once
    (listings shape thousands of jobs, and `isoformat` was a fifth of that)."""
    statuses: list[dict[str, Any]] = []
    run_time = timedelta()
    started_at: str | None = None
    running_since: datetime | None = None
    for item in job.statuses:
        when = item.transition_time
        if running_since is not None:
            run_time += when - running_since
            running_since = None
        body: dict[str, Any] = {
            "status": str(item.status),
            "transition_time": when.isoformat(),
            "reason": item.reason,
            "description": item.description,
        }
        if item.exit_code is not None:
            body["exit_code"] = item.exit_code
        statuses.append(body)
        if item.status is JobStatus.RUNNING:
            running_since = when
            if started_at is None:
                started_at = body["transition_time"]
    if running_since is not None:
        run_time += now - running_since
    current, last = job.current, statuses[-1]
    created_at = job.created_at
    first = job.statuses[0].transition_time
    history: dict[str, Any] = {
        "status": last["status"],
        "reason": current.reason or "",
        "description": current.description or "",
        "created_at": statuses[0]["transition_time"]
        if created_at == first and created_at.utcoffset() == first.utcoffset()
        else created_at.isoformat(),
        "run_time_seconds": run_time.total_seconds(),
        "restarts": job.restarts,
    }
    if started_at is not None:
        history["started_at"] = started_at
    if current.status.is_finished:
        history["finished_at"] = last["transition_time"]
    if current.exit_code is not None:
        history["exit_code"] = current.exit_code
    return statuses, history
