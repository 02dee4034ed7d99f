"""Jobs API (docs/protocol.md §3 and 4): ``Client.jobs``.

This module is the documented facade: entities live in ``_jobs_entities``, the JSON in
``_jobs_wire`` and the monitoring streams in ``_jobs_monitor``.
"""

from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from yarl import URL

from ._config import Config
from ._core import _Core
from ._images_refs import RemoteImage
from ._jobs_entities import (
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
    Message,
    Resources,
    SecretFile,
    StdStream,
    Volume,
)
from ._jobs_interactive import forward_port, open_stream, stream_query
from ._jobs_monitor import STREAM_TIMEOUT, log_query, stream_logs, stream_telemetry
from ._jobs_save import JobSaveProgress, report_save
from ._jobs_wire import (
    ContainerSerializer,
    ListingImages,
    job_fields,
    job_from_api,
    life_span_minutes,
)
from ._org import ORG_NAME_SENTINEL, OrgName, resolve_org
from ._parser import image_ref_parser

__all__ = [
    "Container",
    "DiskVolume",
    "HTTPPort",
    "JobDescription",
    "JobDescriptionInternal",
    "JobPriority",
    "JobRestartPolicy",
    "JobStatus",
    "JobStatusHistory",
    "JobStatusItem",
    "JobTelemetry",
    "Jobs",
    "Message",
    "Resources",
    "SecretFile",
    "StdStream",
    "Volume",
]


# The list filters (repeatable keys); the method named ``list`` hides the builtin in the class.
Params = list[tuple[str, str]]


def _iso(value: datetime) -> str:
    # A naive datetime is local time (documented); astimezone() reads it so.
    return value.astimezone(UTC).isoformat()


class Jobs:
    """Jobs subsystem, available as ``Client.jobs``."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config

    @property
    def _jobs_url(self) -> URL:
        return self._config.api_url / "jobs"

    def _monitoring_url(self, cluster_name: str | None) -> URL:
        name = cluster_name or self._config.cluster_name
        cluster = self._config.clusters.get(name)
        if cluster is None:
            raise ValueError(f"Unknown cluster {name!r}")
        return cluster.monitoring_url

    def _serializer(self, cluster_name: str, org_name: str | None) -> ContainerSerializer:
        return ContainerSerializer(
            cluster=cluster_name, username=self._config.username, org=org_name
        )

    def _job(self, payload: Any) -> JobDescription:
        return job_from_api(payload, image_ref_parser(self._config))

    async def _create(self, url: URL, body: Mapping[str, Any]) -> JobDescription:
        auth = await self._config._api_auth()
        async with self._core.request("POST", url, auth=auth, json=body) as response:
            return self._job(await response.json())

    # -- creating ----------------------------------------------------------------------------

    async def start(
        self,
        *,
        image: RemoteImage,
        preset_name: str,
        cluster_name: str | None = None,
        org_name: OrgName = ORG_NAME_SENTINEL,
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
        shm: bool = False,
        name: str | None = None,
        tags: Sequence[str] = (),
        description: str | None = None,
        pass_config: bool = False,
        wait_for_jobs_quota: bool = False,
        schedule_timeout: float | None = None,
        restart_policy: JobRestartPolicy = JobRestartPolicy.NEVER,
        life_span: float | None = None,
        privileged: bool = False,
        priority: JobPriority | None = None,
    ) -> JobDescription:
        """Start a job on a preset (the flat ``?from_preset`` body of docs/protocol.md §3.1);
        in the current org unless ``org_name`` says otherwise (None: no org)."""
        cluster = cluster_name or self._config.cluster_name
        org = resolve_org(org_name, self._config)
        body = job_fields(
            cluster_name=cluster,
            org_name=org,
            pass_config=pass_config,
            name=name,
            preset_name=preset_name,
            tags=tags,
            description=description,
            schedule_timeout=schedule_timeout,
            restart_policy=restart_policy,
            life_span=life_span,
            wait_for_jobs_quota=wait_for_jobs_quota,
            privileged=privileged,
            priority=priority,
        )
        body |= self._serializer(cluster, org).container_fields(
            image=image,
            entrypoint=entrypoint,
            command=command,
            working_dir=working_dir,
            http=http,
            env=env,
            volumes=volumes,
            secret_env=secret_env,
            secret_files=secret_files,
            disk_volumes=disk_volumes,
            tty=tty,
        )
        if shm:
            # The only resource a preset-based job may ask for on its own.
            body["resources"] = {"shm": True}
        return await self._create(self._jobs_url.with_query("from_preset"), body)

    async def run(
        self,
        container: Container,
        *,
        name: str | None = None,
        tags: Sequence[str] = (),
        description: str | None = None,
        scheduler_enabled: bool = False,
        pass_config: bool = False,
        wait_for_jobs_quota: bool = False,
        schedule_timeout: float | None = None,
        restart_policy: JobRestartPolicy = JobRestartPolicy.NEVER,
        life_span: float | None = None,
        org_name: OrgName = ORG_NAME_SENTINEL,
        priority: JobPriority | None = None,
    ) -> JobDescription:
        """Start a job from explicit resources (the older ``container`` shape) on the
        current cluster, in the current org unless ``org_name`` says otherwise."""
        cluster = self._config.cluster_name
        org = resolve_org(org_name, self._config)
        body = job_fields(
            cluster_name=cluster,
            org_name=org,
            pass_config=pass_config,
            name=name,
            tags=tags,
            description=description,
            schedule_timeout=schedule_timeout,
            restart_policy=restart_policy,
            life_span=life_span,
            wait_for_jobs_quota=wait_for_jobs_quota,
            priority=priority,
        )
        body["scheduler_enabled"] = scheduler_enabled
        body["container"] = self._serializer(cluster, org).container(container)
        return await self._create(self._jobs_url, body)

    # -- reading -----------------------------------------------------------------------------

    async def status(self, id: str) -> JobDescription:
        auth = await self._config._api_auth()
        async with self._core.request("GET", self._jobs_url / id, auth=auth) as response:
            return self._job(await response.json())

    @asynccontextmanager
    async def list(
        self,
        *,
        statuses: Iterable[JobStatus] = (),
        name: str | None = "",
        tags: Sequence[str] = (),
        owners: Iterable[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        reverse: bool = False,
        limit: int | None = None,
        cluster_name: str | None = None,
        _materialized: bool | None = None,
        _being_dropped: bool | None = False,
        _logs_removed: bool | None = False,
    ) -> AsyncIterator[AsyncIterator[JobDescription]]:
        """Jobs that match every filter given; the underscored ones are the platform's
        bookkeeping flags (None: either), as the original SDK sends them."""
        params: Params = [("status", str(status)) for status in statuses]
        if name:
            params.append(("name", name))
        params.extend(("owner", owner) for owner in owners)
        params.extend(("tag", tag) for tag in tags)
        if since is not None:
            params.append(("since", _iso(since)))
        if until is not None:
            params.append(("until", _iso(until)))
        params.append(("cluster_name", cluster_name or self._config.cluster_name))
        if reverse:
            params.append(("reverse", "1"))
        if limit is not None:
            params.append(("limit", str(limit)))
        # What 22.x sends by default: hide jobs the platform is dropping.
        for key, flag in (
            ("materialized", _materialized),
            ("being_dropped", _being_dropped),
            ("logs_removed", _logs_removed),
        ):
            if flag is not None:
                params.append((key, str(flag)))
        jobs = self._iterate(params)
        try:
            yield jobs
        finally:
            await jobs.aclose()

    async def _iterate(self, params: "Params") -> AsyncGenerator[JobDescription]:
        auth = await self._config._api_auth()
        images = ListingImages(image_ref_parser(self._config))
        async for payload in self._core.stream_json(
            "GET", self._jobs_url, auth=auth, params=params, list_key="jobs"
        ):
            yield job_from_api(payload, images)

    # -- changing ----------------------------------------------------------------------------

    async def kill(self, id: str) -> None:
        auth = await self._config._api_auth()
        async with self._core.request("DELETE", self._jobs_url / id, auth=auth):
            pass

    async def bump_life_span(self, id: str, additional_life_span: float) -> None:
        minutes = life_span_minutes(additional_life_span)
        if minutes < 1:
            raise ValueError("The life span can only be bumped by a minute or more")
        auth = await self._config._api_auth()
        async with self._core.request(
            "PUT",
            self._jobs_url / id / "max_run_time_minutes",
            auth=auth,
            json={"additional_max_run_time_minutes": minutes},
        ):
            pass

    async def send_signal(self, id: str, *, cluster_name: str | None = None) -> None:
        auth = await self._config._api_auth()
        url = self._monitoring_url(cluster_name) / id / "kill"
        async with self._core.request("POST", url, auth=auth):
            pass

    async def save(
        self,
        id: str,
        image: RemoteImage,
        *,
        progress: JobSaveProgress | None = None,
        cluster_name: str | None = None,
    ) -> None:
        """Commit the running job's container to ``image`` in the platform registry.

        The caller needs write on the job and on the image; ``progress`` hears of the
        commit and of every layer pushed. Raises ImageSaveError when the platform fails.
        """
        if not image.is_in_platform_registry:
            raise ValueError(f"Image `{image}` must be in the platform registry")
        auth = await self._config._api_auth()
        url = self._monitoring_url(cluster_name) / id / "save"
        body = {"container": {"image": image.as_docker_url()}}
        async with self._core.request(
            "POST", url, auth=auth, json=body, timeout=STREAM_TIMEOUT
        ) as response:
            await report_save(response.content, id, image, progress)

    async def get_capacity(self, *, cluster_name: str | None = None) -> Mapping[str, int]:
        auth = await self._config._api_auth()
        url = self._monitoring_url(cluster_name) / "capacity"
        async with self._core.request("GET", url, auth=auth) as response:
            payload = await response.json()
        return {str(name): int(count) for name, count in payload.items()}

    # -- streams -----------------------------------------------------------------------------

    @asynccontextmanager
    async def monitor(
        self,
        id: str,
        *,
        cluster_name: str | None = None,
        since: datetime | None = None,
        timestamps: bool = False,
        separator: str | None = None,
        debug: bool = False,
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """The job's output as byte chunks, archived output first, then live."""
        url = self._monitoring_url(cluster_name)
        auth = await self._config._api_auth()
        chunks = stream_logs(
            self._core, url, id, auth, log_query(since, timestamps, separator, debug)
        )
        try:
            yield chunks
        finally:
            await chunks.aclose()

    @asynccontextmanager
    async def top(
        self, id: str, *, cluster_name: str | None = None
    ) -> AsyncIterator[AsyncIterator[JobTelemetry]]:
        """Telemetry about every second while the job runs."""
        url = self._monitoring_url(cluster_name)
        auth = await self._config._api_auth()
        frames = stream_telemetry(self._core, url, id, auth)
        try:
            yield frames
        finally:
            await frames.aclose()

    # -- interaction -------------------------------------------------------------------------

    @asynccontextmanager
    async def exec(
        self,
        id: str,
        cmd: str,
        *,
        tty: bool = False,
        stdin: bool = False,
        stdout: bool = False,
        stderr: bool = False,
        cluster_name: str | None = None,
    ) -> AsyncIterator[StdStream]:
        """Run `cmd` (a shell-like command line) in the running job; see StdStream."""
        url = self._monitoring_url(cluster_name) / id / "exec"
        query = stream_query(tty=tty, stdin=stdin, stdout=stdout, stderr=stderr, cmd=cmd)
        auth = await self._config._api_auth()
        async with open_stream(self._core, url, auth, query) as stream:
            yield stream

    @asynccontextmanager
    async def attach(
        self,
        id: str,
        *,
        tty: bool = False,
        stdin: bool = False,
        stdout: bool = False,
        stderr: bool = False,
        cluster_name: str | None = None,
    ) -> AsyncIterator[StdStream]:
        """Connect to the running job's own standard streams; see StdStream."""
        url = self._monitoring_url(cluster_name) / id / "attach"
        query = stream_query(tty=tty, stdin=stdin, stdout=stdout, stderr=stderr)
        auth = await self._config._api_auth()
        async with open_stream(self._core, url, auth, query) as stream:
            yield stream

    @asynccontextmanager
    async def port_forward(
        self,
        id: str,
        local_port: int,
        job_port: int,
        *,
        no_key_check: bool = False,
        cluster_name: str | None = None,
    ) -> AsyncIterator[None]:
        """Forward localhost:`local_port` to `job_port` of the job while the block runs.

        `no_key_check` is kept for compatibility: forwarding goes through the platform's
        websocket, never over SSH, so there is no host key to check.
        """
        url = self._monitoring_url(cluster_name) / id / "port_forward" / str(job_port)
        async with forward_port(self._core, url, self._config._api_auth, local_port):
            yield
