"""Jobs on the wire (docs/protocol.md §3.1 and 3.5): request bodies out, job objects in.

Only this module knows the JSON field names; ``_jobs`` sends what it builds here and
hands what the server answers to :func:`job_from_api`.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from yarl import URL

from ._images_refs import ImageRefParser, RemoteImage
from ._jobs_entities import (
    MIB,
    Container,
    DiskVolume,
    HTTPPort,
    JobDescription,
    JobDescriptionInternal,
    JobPriority,
    JobRestartPolicy,
    JobStatus,
    JobStatusHistory,
    JobStatusItem,
    JobTelemetry,
    Resources,
    SecretFile,
    Volume,
)
from ._uris import UriContext, normalize_uri

JSON = dict[str, Any]


# -- outgoing ------------------------------------------------------------------------------


class ContainerSerializer:
    """Builds the container fields for jobs of one cluster, one user and one org."""

    def __init__(self, *, cluster: str, username: str, org: str | None) -> None:
        self._context = UriContext(cluster=cluster, username=username, org=org)

    def _uri(self, uri: URL) -> str:
        return str(normalize_uri(uri, self._context))

    def container_fields(
        self,
        *,
        image: RemoteImage,
        entrypoint: str | None = None,
        command: str | None = None,
        working_dir: str | None = None,
        http: HTTPPort | None = None,
        env: Mapping[str, str] | None = None,
        volumes: Sequence[Volume] = (),
        secret_env: Mapping[str, URL] | None = None,
        secret_files: Sequence[SecretFile] = (),
        disk_volumes: Sequence[DiskVolume] = (),
        tty: bool = False,
    ) -> JSON:
        body: JSON = {"image": image.as_docker_url()}
        optional: JSON = {
            "entrypoint": entrypoint,
            "command": command,
            "working_dir": working_dir,
        }
        body.update({key: value for key, value in optional.items() if value})
        if http is not None:
            body["http"] = {"port": http.port, "requires_auth": http.requires_auth}
        if env:
            body["env"] = dict(env)
        if volumes:
            body["volumes"] = [
                {
                    "src_storage_uri": self._uri(volume.storage_uri),
                    "dst_path": volume.container_path,
                    "read_only": volume.read_only,
                }
                for volume in volumes
            ]
        if secret_env:
            body["secret_env"] = {name: self._uri(uri) for name, uri in secret_env.items()}
        if secret_files:
            body["secret_volumes"] = [
                {"src_secret_uri": self._uri(item.secret_uri), "dst_path": item.container_path}
                for item in secret_files
            ]
        if disk_volumes:
            body["disk_volumes"] = [
                {
                    "src_disk_uri": self._uri(disk.disk_uri),
                    "dst_path": disk.container_path,
                    "read_only": disk.read_only,
                }
                for disk in disk_volumes
            ]
        if tty:
            body["tty"] = True
        return body

    def container(self, container: Container) -> JSON:
        """The nested ``container`` object of the older ``run`` shape, with resources."""
        body = self.container_fields(
            image=container.image,
            entrypoint=container.entrypoint,
            command=container.command,
            working_dir=container.working_dir,
            http=container.http,
            env=container.env,
            volumes=container.volumes,
            secret_env=container.secret_env,
            secret_files=container.secret_files,
            disk_volumes=container.disk_volumes,
            tty=container.tty,
        )
        body["resources"] = resources_to_api(container.resources)
        return body


def resources_to_api(resources: Resources) -> JSON:
    # 22.6 sends memory_mb; the server accepts it as well as bytes in `memory`.
    body: JSON = {"memory_mb": resources.memory_mb, "cpu": resources.cpu, "shm": resources.shm}
    if resources.gpu:
        body["gpu"] = resources.gpu
        if resources.gpu_model:
            body["gpu_model"] = resources.gpu_model
    if resources.tpu_type:
        body["tpu"] = {
            "type": resources.tpu_type,
            "software_version": resources.tpu_software_version,
        }
    return body


def life_span_minutes(seconds: float) -> int:
    """Whole minutes of a run-time limit, rounded down as the original SDK does; a positive
    limit under a minute is one minute, the least the server takes (docs/protocol.md §3.1),
    so it is not refused. Zero or less stays as it is and the server refuses it."""
    minutes = int(seconds // 60)
    return 1 if minutes == 0 and seconds > 0 else minutes


def job_fields(
    *,
    cluster_name: str,
    org_name: str | None,
    pass_config: bool,
    name: str | None = None,
    preset_name: str | None = None,
    tags: Sequence[str] = (),
    description: str | None = None,
    schedule_timeout: float | None = None,
    restart_policy: JobRestartPolicy = JobRestartPolicy.NEVER,
    life_span: float | None = None,
    wait_for_jobs_quota: bool = False,
    privileged: bool = False,
    priority: JobPriority | None = None,
) -> JSON:
    """The job-level fields of both create shapes (docs/protocol.md §3.1), falsy ones left out."""
    body: JSON = {"pass_config": pass_config, "cluster_name": cluster_name}
    if org_name is not None:
        body["org_name"] = org_name
    if name:
        body["name"] = name
    if preset_name:
        body["preset_name"] = preset_name
    if tags:
        body["tags"] = list(tags)
    if description:
        body["description"] = description
    if schedule_timeout is not None:
        body["schedule_timeout"] = schedule_timeout
    if restart_policy != JobRestartPolicy.NEVER:
        body["restart_policy"] = str(restart_policy)
    if life_span is not None:
        body["max_run_time_minutes"] = life_span_minutes(life_span)
    if wait_for_jobs_quota:
        body["wait_for_jobs_quota"] = True
    if privileged:
        body["privileged"] = True
    if priority is not None:
        body["priority"] = priority.name.lower()
    return body


# -- incoming ------------------------------------------------------------------------------


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# Enum members by their wire value: a dict look-up, not the enum's call (a listing of
# 10,000 jobs converts 60,000 values).
_STATUSES = {str(status): status for status in JobStatus}
_PRIORITIES = {priority.name.lower(): priority for priority in JobPriority}
_RESTART_POLICIES = {str(policy): policy for policy in JobRestartPolicy}


class ImageParser(Protocol):
    def parse_docker_url(self, text: str) -> RemoteImage: ...


class ListingImages:
    """The images of one listing, each reference parsed once: jobs share a few images."""

    LIMIT = 1024  # distinct references remembered

    def __init__(self, images: ImageRefParser) -> None:
        self._images = images
        self._parsed: dict[str, RemoteImage] = {}

    def parse_docker_url(self, text: str) -> RemoteImage:
        image = self._parsed.get(text)
        if image is None:
            if len(self._parsed) >= self.LIMIT:
                self._parsed.clear()
            image = self._parsed[text] = self._images.parse_docker_url(text)
        return image


def _status(value: str) -> JobStatus:
    return _STATUSES.get(value, JobStatus.UNKNOWN)


def _status_item(payload: JSON) -> JobStatusItem:
    return JobStatusItem(
        status=_status(payload["status"]),
        transition_time=datetime.fromisoformat(payload["transition_time"]),
        reason=payload.get("reason") or "",
        description=payload.get("description") or "",
        exit_code=payload.get("exit_code"),
    )


def _history(payload: JSON, transitions: Sequence[JSON]) -> JobStatusHistory:
    return JobStatusHistory(
        status=_status(payload["status"]),
        reason=payload.get("reason") or "",
        description=payload.get("description") or "",
        restarts=payload.get("restarts", 0),
        created_at=_time(payload.get("created_at")),
        started_at=_time(payload.get("started_at")),
        finished_at=_time(payload.get("finished_at")),
        run_time_seconds=payload.get("run_time_seconds"),
        exit_code=payload.get("exit_code"),
        transitions=[_status_item(item) for item in transitions],
    )


def _resources(payload: JSON) -> Resources:
    # 22.6 reads memory_mb; a server that only sends bytes still works.
    memory_mb = payload["memory_mb"] if "memory_mb" in payload else payload["memory"] // MIB
    tpu = payload.get("tpu") or {}
    return Resources(
        memory_mb=memory_mb,
        cpu=payload["cpu"],
        gpu=payload.get("gpu"),
        gpu_model=payload.get("gpu_model"),
        shm=payload.get("shm", False),
        tpu_type=tpu.get("type"),
        tpu_software_version=tpu.get("software_version"),
    )


def _container(payload: JSON, images: ImageParser) -> Container:
    http = payload.get("http")
    return Container(
        image=images.parse_docker_url(payload["image"]),
        resources=_resources(payload["resources"]),
        entrypoint=payload.get("entrypoint"),
        command=payload.get("command"),
        working_dir=payload.get("working_dir"),
        http=(
            HTTPPort(port=http["port"], requires_auth=http.get("requires_auth", True))
            if http
            else None
        ),
        env=dict(payload.get("env") or {}),
        volumes=[
            Volume(
                storage_uri=URL(item["src_storage_uri"]),
                container_path=item["dst_path"],
                read_only=item.get("read_only", True),
            )
            for item in payload.get("volumes") or ()
        ],
        secret_env={name: URL(uri) for name, uri in (payload.get("secret_env") or {}).items()},
        secret_files=[
            SecretFile(secret_uri=URL(item["src_secret_uri"]), container_path=item["dst_path"])
            for item in payload.get("secret_volumes") or ()
        ],
        disk_volumes=[
            DiskVolume(
                disk_uri=URL(item["src_disk_uri"]),
                container_path=item["dst_path"],
                read_only=item.get("read_only", True),
            )
            for item in payload.get("disk_volumes") or ()
        ],
        tty=payload.get("tty", False),
    )


def _priority(value: str | None) -> JobPriority:
    if value is None:
        return JobPriority.NORMAL
    return _PRIORITIES.get(value.lower(), JobPriority.NORMAL)


def _restart_policy(value: str) -> JobRestartPolicy:
    return _RESTART_POLICIES.get(value) or JobRestartPolicy(value)  # the enum's error if unknown


def job_from_api(payload: JSON, images: ImageParser) -> JobDescription:
    """A job object (docs/protocol.md §3.5); a missing mandatory field raises KeyError, as in
    22.6."""
    http_url = payload.get("http_url_named") or payload.get("http_url")
    max_run_time = payload.get("max_run_time_minutes")
    return JobDescription(
        id=payload["id"],
        owner=payload["owner"],
        cluster_name=payload["cluster_name"],
        status=_status(payload["status"]),
        history=_history(payload["history"], payload.get("statuses") or ()),
        container=_container(payload["container"], images),
        scheduler_enabled=payload["scheduler_enabled"],
        pass_config=payload["pass_config"],
        uri=URL(payload["uri"]),
        total_price_credits=Decimal(payload["total_price_credits"]),
        price_credits_per_hour=Decimal(payload["price_credits_per_hour"]),
        name=payload.get("name"),
        tags=tuple(payload.get("tags") or ()),
        description=payload.get("description"),
        http_url=URL(http_url) if http_url else URL(),
        internal_hostname=payload.get("internal_hostname"),
        internal_hostname_named=payload.get("internal_hostname_named"),
        restart_policy=_restart_policy(payload.get("restart_policy", "never")),
        life_span=max_run_time * 60 if max_run_time else None,
        schedule_timeout=payload.get("schedule_timeout"),
        preset_name=payload.get("preset_name"),
        org_name=payload.get("org_name"),
        preemptible_node=payload.get("preemptible_node", False),
        privileged=payload.get("privileged", False),
        priority=_priority(payload.get("priority")),
        _internal=JobDescriptionInternal(
            materialized=payload.get("materialized", False),
            being_dropped=payload.get("being_dropped", False),
            logs_removed=payload.get("logs_removed", False),
        ),
    )


def telemetry_from_api(payload: JSON) -> JobTelemetry:
    """A ``top`` frame (docs/protocol.md §4). ``memory`` (MiB) is what 22.6 reads, but it is a whole
    number: the exact ``memory_bytes`` wins when the server sends it."""
    if payload.get("memory_bytes") is not None:
        memory = payload["memory_bytes"] / MIB
    else:
        memory = payload["memory"]
    gpu_memory = payload.get("gpu_memory")
    if payload.get("gpu_memory_bytes") is not None:
        gpu_memory = payload["gpu_memory_bytes"] / MIB
    return JobTelemetry(
        cpu=payload["cpu"],
        memory=float(memory),
        timestamp=payload["timestamp"],
        gpu_duty_cycle=payload.get("gpu_duty_cycle"),
        gpu_memory=gpu_memory,
    )
