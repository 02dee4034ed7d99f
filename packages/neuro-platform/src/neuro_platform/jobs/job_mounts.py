"""What a job's container gets from secrets and disks, prepared each time it starts.

Secrets are read at container start, not at submission, so a secret removed in between never
reaches the job (the start fails instead). Secret files are written mode 0400 into a
per-job directory (mode 0700) under the data dir, bind-mounted read-only, and removed when
the container is collected. Disks are bind mounts of their mount point on the host.
No secret value is ever logged: errors name the secret's URI only.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..disks.images import DiskImageError
from ..disks.service import DiskNotFoundError, DisksService
from ..orchestrator import BindMount, JobReason, OrchestratorError
from ..secrets.service import SecretNotFoundError, SecretsService
from .entities import DiskVolume, Job


class SecretUnavailableError(OrchestratorError):
    reason = JobReason.CONTAINER_CANNOT_RUN


class DiskUnavailableError(OrchestratorError):
    reason = JobReason.DISK_UNAVAILABLE


@dataclass(frozen=True)
class PreparedMounts:
    env: dict[str, str]
    bind_mounts: tuple[BindMount, ...]


class JobMounts:
    def __init__(self, secrets: SecretsService, disks: DisksService, secrets_dir: Path) -> None:
        self._secrets = secrets
        self._disks = disks
        self._secrets_dir = secrets_dir

    async def prepare(self, job: Job) -> PreparedMounts:
        container = job.container
        env = {name: await self._text(uri) for name, uri in container.secret_env.items()}
        try:
            mounts = await self._secret_files(job)
        except OSError as e:  # e.g. a full data disk: the job fails rather than retrying forever
            raise SecretUnavailableError(f"Secret files could not be written: {e.strerror}") from e
        for volume in container.disk_volumes:
            mounts.append(await self._disk(volume))
        return PreparedMounts(env, tuple(mounts))

    def release(self, job_id: str) -> None:
        """Removes the job's secret files (its container is gone)."""
        shutil.rmtree(self._secrets_dir / job_id, ignore_errors=True)

    def release_all_except(self, job_ids: set[str]) -> None:
        """At start-up: secret files of jobs without a container are left-overs."""
        if self._secrets_dir.is_dir():
            for path in self._secrets_dir.iterdir():
                if path.name not in job_ids:
                    shutil.rmtree(path, ignore_errors=True)

    async def _text(self, uri: str) -> str:
        try:
            return (await self._value(uri)).decode()
        except UnicodeDecodeError:
            raise SecretUnavailableError(
                f"Secret {uri} is not UTF-8 text and cannot be an environment variable"
            ) from None

    async def _value(self, uri: str) -> bytes:
        try:
            return await self._secrets.value(uri)
        except SecretNotFoundError:
            raise SecretUnavailableError(
                f"Secret {uri} was removed before the job started"
            ) from None

    async def _secret_files(self, job: Job) -> list[BindMount]:
        volumes = job.container.secret_volumes
        if not volumes:
            return []
        directory = self._secrets_dir / job.id
        self.release(job.id)  # a restart writes the values as they are now
        self._secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.mkdir(mode=0o700)
        mounts = []
        for index, volume in enumerate(volumes):
            path = directory / str(index)
            value = await self._value(volume.src_secret_uri)
            # Created 0400 from the start: the value is never readable by anyone else.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
            with os.fdopen(fd, "wb") as file:
                file.write(value)
            mounts.append(BindMount(path, PurePosixPath(volume.dst_path), read_only=True))
        return mounts

    async def _disk(self, volume: DiskVolume) -> BindMount:
        try:
            mount_point = await self._disks.mount_point_for_job(volume.disk_id)
        except (DiskNotFoundError, DiskImageError) as e:
            raise DiskUnavailableError(f"Disk {volume.src_disk_uri} is unavailable: {e}") from e
        return BindMount(Path(mount_point), PurePosixPath(volume.dst_path), volume.read_only)
