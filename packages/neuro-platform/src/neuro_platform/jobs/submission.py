"""Reading a job submission (docs/protocol.md §3.1) in either shape, with the spec's validation.

`POST API/jobs?from_preset` carries container fields at the top level and takes resources
from a preset; `POST API/jobs` nests a `container` with full `resources`. Both become one
`Submission`. Every problem is a `ValueError` (400 `{"error"}`) naming the field.
"""

from __future__ import annotations

import math
import posixpath
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ..permissions.uris import org_from_wire
from ..settings import ClusterSettings
from .entities import (
    MIB,
    Container,
    DiskVolume,
    HttpPort,
    JobPriority,
    Resources,
    RestartPolicy,
    SecretVolume,
    StorageVolume,
)

JOB_NAME = re.compile(r"^[a-z](?:-?[a-z0-9])*$")
JOB_NAME_LENGTH = (3, 40)
MAX_TAGS = 16
MAX_TAG_LENGTH = 256
MAX_SCHEDULE_TIMEOUT_S = 30 * 24 * 3600
MIN_CPU = 0.1
MIN_MEMORY = 16 * MIB
PASSED_CONFIG_ENV = "NEURO_PASSED_CONFIG"


class SubmissionError(ValueError):
    pass


@dataclass(frozen=True)
class Submission:
    cluster_name: str
    org_name: str | None
    container: Container
    name: str | None
    description: str | None
    tags: tuple[str, ...]
    preset_name: str | None
    scheduler_enabled: bool
    preemptible_node: bool
    pass_config: bool
    privileged: bool
    restart_policy: RestartPolicy
    priority: JobPriority
    schedule_timeout: float | None
    max_run_time_minutes: int | None
    wait_for_jobs_quota: bool


def parse_submission(
    body: Any, *, from_preset: bool, clusters: tuple[ClusterSettings, ...]
) -> Submission:
    if not isinstance(body, Mapping):
        raise SubmissionError("The request body must be a JSON object")
    cluster = _cluster(body, clusters)
    org_name = org_from_wire(_optional_text(body, "org_name"))
    if org_name not in cluster.orgs:
        raise SubmissionError(f"Organization {org_name!r} is not part of cluster {cluster.name!r}")
    if from_preset:
        wanted = _optional_text(body, "preset_name") or cluster.presets[0].name
        preset = next((p for p in cluster.presets if p.name == wanted), None)
        if preset is None:
            raise SubmissionError(f"Preset {wanted!r} not found in cluster {cluster.name!r}")
        preset_name: str | None = wanted
        extra = body.get("resources") or {}
        if not isinstance(extra, Mapping) or set(extra) - {"shm"}:
            raise SubmissionError("Both preset and resources are not allowed")
        resources = Resources(
            cpu=preset.cpu,
            memory=preset.memory,
            gpu=preset.gpu or 0,
            gpu_model=preset.gpu_model,
            shm=bool(extra.get("shm", False)),
        )
        container = _container(body, resources)
        scheduler_enabled, preemptible_node = preset.scheduler_enabled, preset.preemptible_node
    else:
        preset_name = _optional_text(body, "preset_name")
        raw = body.get("container")
        if not isinstance(raw, Mapping):
            raise SubmissionError("container is required (or submit with ?from_preset)")
        container = _container(raw, _resources(raw.get("resources"), cluster))
        scheduler_enabled = _flag(body, "scheduler_enabled") or _flag(body, "is_preemptible")
        preemptible_node = _flag(body, "preemptible_node") or _flag(
            body, "is_preemptible_node_required"
        )
    schedule_timeout = _schedule_timeout(body.get("schedule_timeout"))
    if schedule_timeout is not None and scheduler_enabled:
        raise SubmissionError("schedule_timeout is not allowed for scheduled (preemptible) jobs")
    pass_config = _flag(body, "pass_config")
    if pass_config and PASSED_CONFIG_ENV in {**container.env, **container.secret_env}:
        raise SubmissionError(f"Cannot pass config: {PASSED_CONFIG_ENV} is already set")
    return Submission(
        cluster_name=cluster.name,
        org_name=org_name,
        container=container,
        name=_name(body.get("name")),
        description=_optional_text(body, "description"),
        tags=_tags(body.get("tags")),
        preset_name=preset_name,
        scheduler_enabled=scheduler_enabled,
        preemptible_node=preemptible_node,
        pass_config=pass_config,
        privileged=_flag(body, "privileged"),
        restart_policy=_enum(RestartPolicy, body, "restart_policy", RestartPolicy.NEVER),
        priority=_enum(JobPriority, body, "priority", JobPriority.NORMAL),
        schedule_timeout=schedule_timeout,
        max_run_time_minutes=_max_run_time(body.get("max_run_time_minutes")),
        wait_for_jobs_quota=_flag(body, "wait_for_jobs_quota"),
    )


def _cluster(body: Mapping[str, Any], clusters: tuple[ClusterSettings, ...]) -> ClusterSettings:
    name = _optional_text(body, "cluster_name")
    if name is None:
        return clusters[0]
    cluster = next((c for c in clusters if c.name == name), None)
    if cluster is None:
        raise SubmissionError(f"Cluster {name!r} not found")
    return cluster


def _container(raw: Mapping[str, Any], resources: Resources) -> Container:
    image = raw.get("image")
    if not isinstance(image, str):
        raise SubmissionError("image is required")
    working_dir = _optional_text(raw, "working_dir")
    if working_dir is not None and not working_dir.startswith("/"):
        raise SubmissionError("working_dir must be an absolute path")
    env = raw.get("env") or {}
    if not isinstance(env, Mapping) or not all(
        isinstance(k, str) and k and "=" not in k and isinstance(v, str) for k, v in env.items()
    ):
        raise SubmissionError("env must map variable names to strings")
    volumes = _volumes(raw.get("volumes"))
    secret_volumes = _secret_volumes(raw.get("secret_volumes"))
    disk_volumes = _disk_volumes(raw.get("disk_volumes"))
    # Compared normalised: Docker refuses `/data` and `/data/` as the same mount point.
    destinations = [
        posixpath.normpath(path)
        for path in (
            *(v.dst_path for v in volumes),
            *(v.dst_path for v in secret_volumes),
            *(v.dst_path for v in disk_volumes),
        )
    ]
    if len(set(destinations)) != len(destinations):
        raise SubmissionError("volume dst_path values must be unique")
    return Container(
        image=image,
        resources=resources,
        entrypoint=_shell_words(raw, "entrypoint"),
        command=_shell_words(raw, "command"),
        working_dir=working_dir,
        env=dict(env),
        volumes=volumes,
        secret_env=_secret_env(raw.get("secret_env"), env),
        secret_volumes=secret_volumes,
        disk_volumes=disk_volumes,
        http=_http(raw.get("http")),
        tty=_flag(raw, "tty"),
    )


def _resources(raw: Any, cluster: ClusterSettings) -> Resources:
    if not isinstance(raw, Mapping):
        raise SubmissionError("container.resources is required")
    cpu = raw.get("cpu")
    if not isinstance(cpu, int | float) or not _is_number(cpu) or cpu < MIN_CPU:
        raise SubmissionError(f"cpu must be a number >= {MIN_CPU}")
    if "memory" in raw:
        memory = raw["memory"]
    elif "memory_mb" in raw:
        memory = raw["memory_mb"] * MIB if _is_number(raw["memory_mb"]) else None
    else:
        raise SubmissionError("memory (bytes) or memory_mb is required")
    if not isinstance(memory, int | float) or not _is_number(memory) or memory < MIN_MEMORY:
        raise SubmissionError(f"memory must be at least {MIN_MEMORY // MIB} MiB")
    gpu = raw.get("gpu") or 0
    if not isinstance(gpu, int) or isinstance(gpu, bool) or gpu < 0:
        raise SubmissionError("gpu must be a non-negative integer")
    gpu_model = raw.get("gpu_model")
    known_models = {p.gpu_model for p in cluster.presets if p.gpu_model}
    if gpu_model is not None and gpu_model not in known_models:
        raise SubmissionError(
            f"gpu_model {gpu_model!r} is not available in cluster {cluster.name!r}"
        )
    if raw.get("tpu"):
        raise SubmissionError("TPUs are not available in this cluster")
    return Resources(
        cpu=float(cpu), memory=int(memory), gpu=gpu, gpu_model=gpu_model, shm=_flag(raw, "shm")
    )


def _http(raw: Any) -> HttpPort | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise SubmissionError("http must be an object")
    port = raw.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise SubmissionError("http.port must be a port number")
    path = raw.get("health_check_path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise SubmissionError("http.health_check_path must start with /")
    return HttpPort(
        port=port, requires_auth=_flag(raw, "requires_auth", True), health_check_path=path
    )


def _volumes(raw: Any) -> tuple[StorageVolume, ...]:
    if not raw:
        return ()
    if not isinstance(raw, list) or not all(isinstance(v, Mapping) for v in raw):
        raise SubmissionError("volumes must be a list of objects")
    volumes = []
    for item in raw:
        src, dst = item.get("src_storage_uri"), item.get("dst_path")
        if not isinstance(src, str) or not src.startswith("storage://"):
            raise SubmissionError("volume src_storage_uri must be a storage:// URI")
        if not isinstance(dst, str) or not dst.startswith("/"):
            raise SubmissionError("volume dst_path must be an absolute path")
        volumes.append(StorageVolume(src, dst, _flag(item, "read_only", True)))
    return tuple(volumes)


def _secret_env(raw: Any, env: Mapping[str, str]) -> dict[str, str]:
    if not raw:
        return {}
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and k and "=" not in k and isinstance(v, str) for k, v in raw.items()
    ):
        raise SubmissionError("secret_env must map variable names to secret:// URIs")
    for name, uri in raw.items():
        if not uri.startswith("secret://"):
            raise SubmissionError(f"secret_env {name}: {uri!r} is not a secret:// URI")
        if name in env:
            raise SubmissionError(f"{name} is set both in env and in secret_env")
    return dict(raw)


def _secret_volumes(raw: Any) -> tuple[SecretVolume, ...]:
    items = _objects(raw, "secret_volumes")
    volumes = []
    for item in items:
        src = item.get("src_secret_uri")
        if not isinstance(src, str) or not src.startswith("secret://"):
            raise SubmissionError("secret volume src_secret_uri must be a secret:// URI")
        volumes.append(SecretVolume(src, _dst_path(item)))
    return tuple(volumes)


def _disk_volumes(raw: Any) -> tuple[DiskVolume, ...]:
    items = _objects(raw, "disk_volumes")
    volumes = []
    for item in items:
        src = item.get("src_disk_uri")
        if not isinstance(src, str) or not src.startswith("disk://"):
            raise SubmissionError("disk volume src_disk_uri must be a disk:// URI")
        volumes.append(DiskVolume(src, _dst_path(item), _flag(item, "read_only", True)))
    return tuple(volumes)


def _objects(raw: Any, key: str) -> list[Mapping[str, Any]]:
    if not raw:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, Mapping) for v in raw):
        raise SubmissionError(f"{key} must be a list of objects")
    return raw


def _dst_path(item: Mapping[str, Any]) -> str:
    dst = item.get("dst_path")
    if not isinstance(dst, str) or not dst.startswith("/") or dst.rstrip("/") == "":
        raise SubmissionError("volume dst_path must be an absolute path")
    return dst


def _name(value: Any) -> str | None:
    if value is None:
        return None
    low, high = JOB_NAME_LENGTH
    if not isinstance(value, str) or not low <= len(value) <= high or not JOB_NAME.match(value):
        raise SubmissionError(
            f"Invalid job name {value!r}: {low}-{high} characters, lowercase letters, digits "
            "and single dashes, starting with a letter"
        )
    return value


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise SubmissionError(f"tags must be a list of at most {MAX_TAGS} strings")
    for tag in value:
        if (
            not isinstance(tag, str)
            or not 1 <= len(tag) <= MAX_TAG_LENGTH
            or any(c.isspace() for c in tag)
        ):
            raise SubmissionError(f"Invalid tag {tag!r}: 1-{MAX_TAG_LENGTH} non-space characters")
    return tuple(sorted(set(value)))


def _schedule_timeout(value: Any) -> float | None:
    if value is None:
        return None
    if not _is_number(value) or not 1 <= value < MAX_SCHEDULE_TIMEOUT_S:
        raise SubmissionError("schedule_timeout must be at least 1 second and under 30 days")
    return float(value)


def _max_run_time(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SubmissionError("max_run_time_minutes must be a positive integer")
    return value


def _shell_words(raw: Mapping[str, Any], key: str) -> str | None:
    value = _optional_text(raw, key)
    if value is not None:
        try:
            shlex.split(value)
        except ValueError as e:
            raise SubmissionError(f"{key} is not a valid shell command line: {e}") from e
    return value


def _optional_text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise SubmissionError(f"{key} must be a string")
    return value


def _flag(raw: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise SubmissionError(f"{key} must be true or false")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_E = TypeVar("_E", RestartPolicy, JobPriority)


def _enum(kind: type[_E], raw: Mapping[str, Any], key: str, default: _E) -> _E:
    value = raw.get(key)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(v) for v in kind)
        raise SubmissionError(f"{key} must be one of: {allowed}") from None
