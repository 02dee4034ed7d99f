"""A job submission (docs/protocol.md §3.1), as `schema.py` has validated it, into a `JobSpec`.

`POST API/jobs?from_preset` carries container fields at the top level and takes resources
from a preset; `POST API/jobs` nests a `container` with full `resources`. Both become one
`Submission`. The schema has checked every field on its own; what is left here are the
rules across fields and against the cluster's settings. Every problem is a `ValueError`
(400 `{"error"}`) naming the field.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from ..permissions.uris import org_from_wire
from ..presets import default_preset, preset_named
from ..settings import ClusterSettings
from .entities import (
    MIB,
    Container,
    DiskVolume,
    HttpPort,
    JobPriority,
    JobSpec,
    Resources,
    RestartPolicy,
    SecretVolume,
    StorageVolume,
)
from .schema import ContainerBody, JobSubmissionBody, ResourcesBody

PASSED_CONFIG_ENV = "NEURO_PASSED_CONFIG"


class SubmissionError(ValueError):
    pass


@dataclass(frozen=True)
class Submission:
    """Where the job goes, and what it is."""

    cluster_name: str
    org_name: str | None
    spec: JobSpec


def parse_submission(
    body: JobSubmissionBody, *, from_preset: bool, clusters: tuple[ClusterSettings, ...]
) -> Submission:
    cluster = _cluster(body.cluster_name, clusters)
    org_name = org_from_wire(body.org_name)
    if org_name not in cluster.orgs:
        raise SubmissionError(f"Organization {org_name!r} is not part of cluster {cluster.name!r}")
    if from_preset:
        if not body.preset_name:  # absent, null or ""
            preset = default_preset(cluster.presets)
        elif (named := preset_named(cluster.presets, body.preset_name)) is not None:
            preset = named
        else:
            raise SubmissionError(
                f"Preset {body.preset_name!r} not found in cluster {cluster.name!r}"
            )
        extra = body.resources
        if extra is not None and _given(extra) - {"shm"}:
            raise SubmissionError("Both preset and resources are not allowed")
        resources = Resources(
            cpu=preset.cpu,
            memory=preset.memory,
            gpu=preset.gpu or 0,
            gpu_model=preset.gpu_model,
            shm=bool(extra is not None and extra.shm),
        )
        container = _container(body, resources)
        preset_name: str | None = preset.name
        scheduler_enabled, preemptible_node = preset.scheduler_enabled, preset.preemptible_node
    else:
        if body.container is None:
            raise SubmissionError("container is required (or submit with ?from_preset)")
        container = _container(body.container, _resources(body.container.resources, cluster))
        preset_name = body.preset_name
        scheduler_enabled = bool(body.scheduler_enabled or body.is_preemptible)
        preemptible_node = bool(body.preemptible_node or body.is_preemptible_node_required)
    if body.schedule_timeout is not None and scheduler_enabled:
        raise SubmissionError("schedule_timeout is not allowed for scheduled (preemptible) jobs")
    if body.pass_config and PASSED_CONFIG_ENV in {**container.env, **container.secret_env}:
        raise SubmissionError(f"Cannot pass config: {PASSED_CONFIG_ENV} is already set")
    spec = JobSpec(
        container=container,
        name=body.name,
        description=body.description,
        tags=tuple(sorted(set(body.tags or ()))),
        preset_name=preset_name,
        scheduler_enabled=scheduler_enabled,
        preemptible_node=preemptible_node,
        pass_config=bool(body.pass_config),
        privileged=bool(body.privileged),
        restart_policy=RestartPolicy(body.restart_policy or RestartPolicy.NEVER),
        priority=JobPriority(body.priority or JobPriority.NORMAL),
        schedule_timeout=body.schedule_timeout,
        max_run_time_minutes=body.max_run_time_minutes,
        wait_for_jobs_quota=bool(body.wait_for_jobs_quota),
    )
    return Submission(cluster_name=cluster.name, org_name=org_name, spec=spec)


def _cluster(name: str | None, clusters: tuple[ClusterSettings, ...]) -> ClusterSettings:
    if name is None:
        return clusters[0]
    cluster = next((c for c in clusters if c.name == name), None)
    if cluster is None:
        raise SubmissionError(f"Cluster {name!r} not found")
    return cluster


def _given(resources: ResourcesBody) -> set[str]:
    return resources.model_fields_set | set(resources.model_extra or {})


def _container(body: ContainerBody, resources: Resources) -> Container:
    if body.image is None:
        raise SubmissionError("image is required")
    env = body.env or {}
    secret_env = body.secret_env or {}
    for name in secret_env:
        if name in env:
            raise SubmissionError(f"{name} is set both in env and in secret_env")
    volumes = tuple(
        StorageVolume(v.src_storage_uri, v.dst_path, v.read_only) for v in body.volumes or ()
    )
    secret_volumes = tuple(
        SecretVolume(v.src_secret_uri, v.dst_path) for v in body.secret_volumes or ()
    )
    disk_volumes = tuple(
        DiskVolume(v.src_disk_uri, v.dst_path, v.read_only) for v in body.disk_volumes or ()
    )
    # Compared normalised: Docker refuses `/data` and `/data/` as the same mount point.
    mount_points = [
        *(v.dst_path for v in volumes),
        *(v.dst_path for v in secret_volumes),
        *(v.dst_path for v in disk_volumes),
    ]
    destinations = [posixpath.normpath(path) for path in mount_points]
    if len(set(destinations)) != len(destinations):
        raise SubmissionError("volume dst_path values must be unique")
    http = body.http
    return Container(
        image=body.image,
        resources=resources,
        entrypoint=body.entrypoint,
        command=body.command,
        working_dir=body.working_dir,
        env=env,
        volumes=volumes,
        secret_env=secret_env,
        secret_volumes=secret_volumes,
        disk_volumes=disk_volumes,
        http=None
        if http is None
        else HttpPort(http.port, http.requires_auth, http.health_check_path),
        tty=bool(body.tty),
    )


def _resources(body: ResourcesBody | None, cluster: ClusterSettings) -> Resources:
    if body is None:
        raise SubmissionError("container.resources is required")
    if body.cpu is None:
        raise SubmissionError("cpu is required")
    if body.memory is not None:
        memory = body.memory
    elif body.memory_mb is not None:
        memory = body.memory_mb * MIB
    else:
        raise SubmissionError("memory (bytes) or memory_mb is required")
    known_models = {p.gpu_model for p in cluster.presets if p.gpu_model}
    if body.gpu_model is not None and body.gpu_model not in known_models:
        raise SubmissionError(
            f"gpu_model {body.gpu_model!r} is not available in cluster {cluster.name!r}"
        )
    if body.tpu:
        raise SubmissionError("TPUs are not available in this cluster")
    return Resources(
        cpu=float(body.cpu),
        memory=memory,
        gpu=body.gpu or 0,
        gpu_model=body.gpu_model,
        shm=bool(body.shm),
    )
