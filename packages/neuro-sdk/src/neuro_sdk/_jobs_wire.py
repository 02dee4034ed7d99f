"""Jobs on the wire (docs/protocol.md §3.1 and 3.5): request bodies out, job objects in.

Only this module knows the JSON field names; ``_jobs`` sends what it builds here and
hands what the server answers to :func:`job_from_api`.
"""

import re
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
#
# A listing decodes thousands of job objects (docs/protocol.md §3.5), so this half is written
# for speed: every job costs ~15 objects the garbage collector then keeps walking, and each
# saved allocation or call counts 10,000 times. tests/jobs/test_listing_decode.py holds what
# each field decoded to before; the results must stay equal, field for field.


# Enum members by their wire value: a dict look-up, not the enum's call (a listing of
# 10,000 jobs converts 60,000 values).
_STATUSES = {str(status): status for status in JobStatus}
_UNKNOWN = JobStatus.UNKNOWN
_PRIORITIES = {priority.name.lower(): priority for priority in JobPriority}
_NORMAL = JobPriority.NORMAL
_RESTART_POLICIES = {str(policy): policy for policy in JobRestartPolicy}
_NO_URL = URL()

# URL text that yarl's URL() keeps as it is: a lower-case host not ending in a digit (no IP
# address, no IDNA), no port, user, query or fragment, path segments of unreserved characters
# that are not dot segments. Such a URL is built from its parts as already encoded (no
# re-quoting, no second parse); it is equal to, and prints as, what URL(text) makes. Anything
# else goes through URL(text).
_PLAIN_URL = re.compile(
    r"([a-z][a-z0-9+.-]*)://((?:[a-z0-9-]+\.)*[a-z0-9-]*[a-z-])((?:/[\w~-][\w.~-]*)*)",
    re.ASCII,
)
_plain_url = _PLAIN_URL.fullmatch
_build_url = URL.build


def _url(text: str) -> URL:
    plain = _plain_url(text)
    if plain is None:
        return URL(text)
    scheme, host, path = plain.groups()
    return _build_url(scheme=scheme, host=host, path=path, encoded=True)


# The bookkeeping flags of a job: immutable, so every job with the same three shares one.
_INTERNALS = {
    (materialized, being_dropped, logs_removed): JobDescriptionInternal(
        materialized=materialized, being_dropped=being_dropped, logs_removed=logs_removed
    )
    for materialized in (False, True)
    for being_dropped in (False, True)
    for logs_removed in (False, True)
}


def _internal(payload: JSON) -> JobDescriptionInternal:
    materialized = payload.get("materialized", False)
    being_dropped = payload.get("being_dropped", False)
    logs_removed = payload.get("logs_removed", False)
    # 1 == True as a key: only real booleans take the shared object.
    if type(materialized) is bool and type(being_dropped) is bool and type(logs_removed) is bool:
        return _INTERNALS[materialized, being_dropped, logs_removed]
    return JobDescriptionInternal(
        materialized=materialized, being_dropped=being_dropped, logs_removed=logs_removed
    )


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


class _Times:
    """A job's timestamps, each text parsed once: the history repeats its transitions'."""

    __slots__ = ("_parsed",)

    def __init__(self) -> None:
        self._parsed: dict[str, datetime] = {}

    def __call__(self, text: str) -> datetime:
        when = self._parsed.get(text)
        if when is None:
            when = self._parsed[text] = datetime.fromisoformat(text)
        return when

    def optional(self, text: str | None) -> datetime | None:
        return self(text) if text else None


def _status_item(payload: JSON, times: _Times) -> JobStatusItem:
    get = payload.get
    return JobStatusItem(
        _STATUSES.get(payload["status"], _UNKNOWN),
        times(payload["transition_time"]),
        get("reason") or "",
        get("description") or "",
        get("exit_code"),
    )


def _history(payload: JSON, transitions: Sequence[JSON]) -> JobStatusHistory:
    times = _Times()
    get = payload.get
    return JobStatusHistory(
        _STATUSES.get(payload["status"], _UNKNOWN),
        get("reason") or "",
        get("description") or "",
        get("restarts", 0),
        times.optional(get("created_at")),
        times.optional(get("started_at")),
        times.optional(get("finished_at")),
        get("run_time_seconds"),
        get("exit_code"),
        [_status_item(item, times) for item in transitions] if transitions else [],
    )


def _resources(payload: JSON) -> Resources:
    # 22.6 reads memory_mb; a server that only sends bytes still works.
    memory_mb = payload["memory_mb"] if "memory_mb" in payload else payload["memory"] // MIB
    get = payload.get
    tpu = get("tpu")
    return Resources(
        memory_mb,
        payload["cpu"],
        get("gpu"),
        get("gpu_model"),
        get("shm", False),
        tpu.get("type") if tpu else None,
        tpu.get("software_version") if tpu else None,
    )


def _container(payload: JSON, images: ImageParser) -> Container:
    get = payload.get
    http = get("http")
    env = get("env")
    volumes = get("volumes")
    secret_env = get("secret_env")
    secret_files = get("secret_volumes")
    disk_volumes = get("disk_volumes")
    return Container(
        images.parse_docker_url(payload["image"]),
        _resources(payload["resources"]),
        get("entrypoint"),
        get("command"),
        get("working_dir"),
        (
            HTTPPort(port=http["port"], requires_auth=http.get("requires_auth", True))
            if http
            else None
        ),
        dict(env) if env else {},
        [
            Volume(
                storage_uri=_url(item["src_storage_uri"]),
                container_path=item["dst_path"],
                read_only=item.get("read_only", True),
            )
            for item in volumes
        ]
        if volumes
        else [],
        {name: _url(uri) for name, uri in secret_env.items()} if secret_env else {},
        [
            SecretFile(secret_uri=_url(item["src_secret_uri"]), container_path=item["dst_path"])
            for item in secret_files
        ]
        if secret_files
        else [],
        [
            DiskVolume(
                disk_uri=_url(item["src_disk_uri"]),
                container_path=item["dst_path"],
                read_only=item.get("read_only", True),
            )
            for item in disk_volumes
        ]
        if disk_volumes
        else [],
        get("tty", False),
    )


def _priority(value: str | None) -> JobPriority:
    if value is None:
        return _NORMAL
    return _PRIORITIES.get(value) or _PRIORITIES.get(value.lower(), _NORMAL)


def _restart_policy(value: str) -> JobRestartPolicy:
    return _RESTART_POLICIES.get(value) or JobRestartPolicy(value)  # the enum's error if unknown


def job_from_api(payload: JSON, images: ImageParser) -> JobDescription:
    """A job object (docs/protocol.md §3.5); a missing mandatory field raises KeyError, as in
    22.6."""
    get = payload.get
    http_url = get("http_url_named") or get("http_url")
    max_run_time = get("max_run_time_minutes")
    tags = get("tags")
    # Positional, in the dataclass's field order (keywords cost a name match per field).
    return JobDescription(
        payload["id"],
        payload["owner"],
        payload["cluster_name"],
        _STATUSES.get(payload["status"], _UNKNOWN),
        _history(payload["history"], get("statuses") or ()),
        _container(payload["container"], images),
        payload["scheduler_enabled"],
        payload["pass_config"],
        _url(payload["uri"]),
        Decimal(payload["total_price_credits"]),
        Decimal(payload["price_credits_per_hour"]),
        get("name"),
        tuple(tags) if tags else (),
        get("description"),
        _url(http_url) if http_url else _NO_URL,
        get("internal_hostname"),
        get("internal_hostname_named"),
        _restart_policy(get("restart_policy", "never")),
        max_run_time * 60 if max_run_time else None,
        get("schedule_timeout"),
        get("preset_name"),
        get("org_name"),
        get("preemptible_node", False),
        get("privileged", False),
        _priority(get("priority")),
        _internal(payload),
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
