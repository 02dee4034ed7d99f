"""Submission-time checks of the secrets and disks a job asks for (docs/protocol.md §3.1).

Read on each secret; read on a read-only disk, write on a writable one (403 otherwise); every
secret and disk must exist in the job's cluster. A disk that an unfinished job holds
read-write (or a finished one whose container is not removed yet: it may still write) cannot
be claimed read-write by another job: two writers would corrupt its filesystem. The
database decides (`JobRepository.insert_claiming`), so this holds between racing
submissions in one process and across the server processes sharing a PostgreSQL database
(docs/scale-out.md) alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..buckets.service import BucketsService
from ..disks.service import DiskNotFoundError, DisksService
from ..permissions.uris import parse_uri
from ..secrets.service import SecretNotFoundError, SecretsService
from .entities import Container, Job
from .queries import ActiveLimit
from .repository import JobRepository
from .submission import SubmissionError


class DiskInUseError(SubmissionError):
    """A read-write claim on a disk another job may still write to."""


class VolumeAccess:
    def __init__(
        self,
        repository: JobRepository,
        secrets: SecretsService,
        disks: DisksService,
        buckets: BucketsService | None = None,
    ) -> None:
        self._buckets = buckets
        self._repository = repository
        self._secrets = secrets
        self._disks = disks

    async def resolve(self, user: str, cluster_name: str, container: Container) -> Container:
        """The container with its disks resolved to ids, once the user may use everything."""
        bucket_uris = sorted({u for u in container.secret_env.values() if u.startswith("blob:")})
        for uri in bucket_uris:
            _require_cluster(uri, cluster_name)
            if self._buckets is None:
                raise SubmissionError("Buckets are not available to jobs on this server")
            await self._buckets.require_for_job(user, uri)
        secret_uris = sorted(
            {*container.secret_env.values(), *(v.src_secret_uri for v in container.secret_volumes)}
            - set(bucket_uris)
        )
        for uri in secret_uris:
            _require_cluster(uri, cluster_name)
        if secret_uris:
            try:
                await self._secrets.require_readable(user, secret_uris)
            except SecretNotFoundError as e:
                raise SubmissionError(str(e)) from e
        disks = []
        for volume in container.disk_volumes:
            _require_cluster(volume.src_disk_uri, cluster_name)
            try:
                disk = await self._disks.for_job(user, volume.src_disk_uri, volume.read_only)
            except DiskNotFoundError as e:
                raise SubmissionError(f"{e} ({volume.src_disk_uri})") from e
            disks.append(replace(volume, disk_id=disk.id))
        writable = [d.disk_id for d in disks if not d.read_only]
        if len(set(writable)) != len(writable):
            raise DiskInUseError("A disk can be mounted read-write only once")
        return replace(container, disk_volumes=tuple(disks)) if disks else container

    async def record(self, job: Job, limits: Sequence[ActiveLimit] = ()) -> None:
        """Records the submitted job (its container as `resolve` returned it), with its
        claims on the disks it mounts read-write; refuses it if another job holds one, or
        (`ActiveLimitReachedError`) if it would take its account past one of `limits`.

        The claims, the count and the job are one transaction: a refused or failed
        submission leaves nothing. A job without such disks goes through the
        group-committed insert, with no query of claims."""
        wanted = {v.disk_id: v for v in job.spec.container.disk_volumes if not v.read_only}
        if not wanted:
            await self._repository.insert(job, limits)
            return
        held = await self._repository.insert_claiming(job, wanted, limits)
        if held is not None:
            raise DiskInUseError(
                f"Disk {wanted[held].src_disk_uri} is mounted read-write by another job that "
                "has not finished, or whose container is still being removed; mount it "
                "read-only or wait"
            )


def _require_cluster(uri: str, cluster_name: str) -> None:
    if parse_uri(uri).parts[:1] != (cluster_name,):
        raise SubmissionError(f"{uri} is not in the job's cluster {cluster_name!r}")
