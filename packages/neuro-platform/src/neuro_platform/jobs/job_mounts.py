"""What a job's container gets from storage, secrets and disks, prepared each time it starts.

Storage folders and disks reach Docker only as staging paths (`mount_staging.py`): the server
opens the source directory itself and binds exactly that directory, so a symlink planted by a
job (`ln -s / /w/toroot`) or swapped in while the job starts can never lead a volume out of
its tree. A storage folder is walked one name at a time from the cluster's storage root
without following symlinks (`storage/anchored.py`, as the storage API does): a symlink or a
file at any level fails the job at once, naming the volume's URI. A missing folder is
created for a read-write volume (users rely on `-v storage:out:/out:rw` making `out`, as the
original platform's kubelet does), and fails a read-only one, which could only ever be empty.

Secrets are read at container start, not at submission, so a secret removed in between never
reaches the job (the start fails instead). Secret files are written into a per-job directory
(mode 0700) under the data dir, bind-mounted read-only, and removed when the container is
collected. They are mode 0440, owned by root and the group `SECRETS_GID`, which the container
gets as a supplementary group: the job reads them whatever USER its image runs as (a name is
resolved only inside the container, so a uid to chown to is not known here), while other users
of the host cannot reach the directory. No secret value is ever logged: errors name the
secret's URI only.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from ..buckets.service import BucketsService
from ..disks.images import DiskImageError
from ..disks.service import DiskNotFoundError, DisksService
from ..orchestrator import BindMount, JobReason, OrchestratorError
from ..permissions.uris import parse_uri
from ..secrets.service import SecretNotFoundError, SecretsService
from ..storage.anchored import AnchoredTree
from ..storage.errors import StorageError
from ..storage.paths import StoragePath
from .entities import DiskVolume, Job, StorageVolume
from .mount_staging import MountStaging

log = logging.getLogger(__name__)

# The top of Debian's reserved range 65000-65533, which neither packages nor admins allocate,
# so the group means nothing else in an image; below 65536, so it maps under user namespaces.
SECRETS_GID = 65533
_SECRET_FILE_MODE = 0o440
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class SecretUnavailableError(OrchestratorError):
    reason = JobReason.CONTAINER_CANNOT_RUN


class DiskUnavailableError(OrchestratorError):
    reason = JobReason.DISK_UNAVAILABLE


class StorageVolumeError(OrchestratorError):
    reason = JobReason.CONTAINER_CANNOT_RUN


@dataclass(frozen=True)
class PreparedMounts:
    env: dict[str, str]
    bind_mounts: tuple[BindMount, ...]
    # Supplementary groups of the container's processes (see SECRETS_GID).
    groups: tuple[int, ...] = ()


class JobMounts:
    def __init__(
        self,
        secrets: SecretsService,
        disks: DisksService,
        secrets_dir: Path,
        staging: MountStaging,
        storage_root_of: Callable[[str], Path],
        buckets: BucketsService | None = None,
    ) -> None:
        self._secrets = secrets
        self._buckets = buckets
        self._disks = disks
        self._secrets_dir = secrets_dir
        self._staging = staging
        self._storage_root_of = storage_root_of

    async def prepare(self, job: Job) -> PreparedMounts:
        """Everything is resolved anew on every start: a restarted job's folders may have
        changed, and its secrets are written as they are now."""
        container = job.spec.container
        env = {name: await self._env(job, uri) for name, uri in container.secret_env.items()}
        self.release(job.id)
        try:
            mounts = [
                await self._storage(job, f"s{index}", volume)
                for index, volume in enumerate(container.volumes)
            ]
            try:
                mounts.extend(await self._secret_files(job))
            except OSError as e:  # e.g. a full data disk: the job fails rather than retrying
                raise SecretUnavailableError(
                    f"Secret files could not be written: {e.strerror}"
                ) from e
            for index, disk in enumerate(container.disk_volumes):
                mounts.append(await self._disk(job, f"d{index}", disk))
        except BaseException:
            self.release(job.id)
            raise
        groups = (SECRETS_GID,) if container.secret_volumes else ()
        return PreparedMounts(env, tuple(mounts), groups)

    def unstage(self, job_id: str) -> None:
        """Once the container has started it holds its own copies of the bind mounts."""
        self._staging.release(job_id)

    async def end_bucket_credentials(self, job_id: str) -> None:
        """The container is gone: its bucket credentials end with it (docs/security.md)."""
        if self._buckets is None:
            return
        try:
            await self._buckets.end_job_credentials(job_id)
        except Exception:  # the store is down: they still end at their expiry
            log.exception("ending the bucket credentials of %s failed", job_id)

    def release(self, job_id: str) -> None:
        """Removes the job's secret files and staging mounts (its container is gone)."""
        shutil.rmtree(self._secrets_dir / job_id, ignore_errors=True)
        self._staging.release(job_id)

    def release_all_except(self, job_ids: set[str]) -> None:
        """At start-up: secret files and staging mounts of jobs without a container are
        left-overs."""
        if self._secrets_dir.is_dir():
            for path in self._secrets_dir.iterdir():
                if path.name not in job_ids:
                    shutil.rmtree(path, ignore_errors=True)
        self._staging.release_all_except(job_ids)

    async def _storage(self, job: Job, name: str, volume: StorageVolume) -> BindMount:
        root = self._storage_root_of(job.cluster_name)
        fd = await asyncio.to_thread(_open_storage_folder, root, volume)
        try:
            host_path = self._staging.bind(job.id, name, fd)
        except OSError as e:
            raise StorageVolumeError(
                f"Storage folder {volume.src_storage_uri} could not be mounted: {e.strerror}"
            ) from e
        finally:
            os.close(fd)
        return BindMount(host_path, PurePosixPath(volume.dst_path), volume.read_only)

    async def _env(self, job: Job, uri: str) -> str:
        if not uri.startswith("blob://"):
            return await self._text(uri)
        if self._buckets is None:
            raise SecretUnavailableError("Buckets are not available to jobs on this server")
        # The job's own identity, alive until its container is gone (`end_bucket_credentials`)
        # and at most for its run time (7 days without one): env cannot be refreshed inside
        # a running container.
        minutes = job.spec.max_run_time_minutes
        expires = datetime.now(UTC) + (timedelta(minutes=minutes) if minutes else timedelta(days=7))
        try:
            return await self._buckets.job_env(job.owner, uri, expires, job.id)
        except Exception as e:  # gone, unshared, store down: the job cannot run as asked
            raise SecretUnavailableError(f"Bucket {uri} is not available: {e}") from e

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
        volumes = job.spec.container.secret_volumes
        if not volumes:
            return []
        directory = self._secrets_dir / job.id
        self._secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.mkdir(mode=0o700)
        mounts = []
        for index, volume in enumerate(volumes):
            path = directory / str(index)
            value = await self._value(volume.src_secret_uri)
            # Readable by root alone until its group is set: the value is never exposed to
            # anyone else on the host (the directory is root's alone anyway).
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
            with os.fdopen(fd, "wb") as file:
                os.fchown(fd, -1, SECRETS_GID)
                os.fchmod(fd, _SECRET_FILE_MODE)  # explicitly: the umask may narrow a mode
                file.write(value)
            mounts.append(BindMount(path, PurePosixPath(volume.dst_path), read_only=True))
        return mounts

    async def _disk(self, job: Job, name: str, volume: DiskVolume) -> BindMount:
        try:
            mount_point = await self._disks.mount_point_for_job(volume.disk_id)
        except (DiskNotFoundError, DiskImageError) as e:
            raise DiskUnavailableError(f"Disk {volume.src_disk_uri} is unavailable: {e}") from e
        # The mount point lies in the data dir, which only root writes, so no job can plant a
        # link on its path; it is staged like a storage folder anyway, so that what Docker
        # binds is the directory opened here.
        try:
            fd = os.open(mount_point, _DIRECTORY_FLAGS)
            try:
                host_path = self._staging.bind(job.id, name, fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise DiskUnavailableError(
                f"Disk {volume.src_disk_uri} is unavailable: {e.strerror}"
            ) from e
        return BindMount(host_path, PurePosixPath(volume.dst_path), volume.read_only)


def _open_storage_folder(root: Path, volume: StorageVolume) -> int:
    """An fd of the volume's folder, reached from the storage root without following any
    symlink; a read-write volume's missing folders are created on the way."""
    uri = volume.src_storage_uri
    try:
        # parse_uri decodes %2F inside a name: parsing its result again as a storage path
        # splits it there and refuses '.' and '..' (and reserved names) like the storage API.
        path = StoragePath.parse("/".join(parse_uri(uri).parts[1:]))
    except (ValueError, StorageError) as e:
        raise StorageVolumeError(f"Storage volume {uri} is not a valid storage path: {e}") from e
    try:
        return AnchoredTree(root).open_directory(path, create=not volume.read_only)
    except OSError as e:
        raise StorageVolumeError(_storage_failure(uri, e)) from e


def _storage_failure(uri: str, error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return f"Storage folder {uri} is or passes through a symbolic link (never followed)"
    if error.errno == errno.ENOTDIR:
        return f"Storage path {uri} is not a folder: a file is in the way"
    if error.errno == errno.ENOENT:
        return f"Storage folder {uri} does not exist (a read-only volume is never created)"
    return f"Storage folder {uri} cannot be mounted: {error.strerror}"
