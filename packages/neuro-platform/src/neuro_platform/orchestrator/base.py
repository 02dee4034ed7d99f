"""The job runtime interface: the scheduler and the jobs service speak only to this.

One implementation per engine (Docker now; Slurm or Kubernetes could follow). Every method
addresses a container by the job id it runs, so a restarted platform finds its containers
again from the ids in its database, and `list_managed` finds the ones it may have lost.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from .interactive import InteractiveSession, StreamOptions
from .spec import ContainerSpec, RegistryAuth
from .state import ContainerState, ContainerStats

# Told, while a start waits for the engine to run the container (a Slurm job in its queue),
# what it waits for: called on every look, a few times a second. Raising abandons the start
# with that error; the container is then the caller's to remove.
StartProgress = Callable[[ContainerState], Awaitable[None]]


class Orchestrator(abc.ABC):
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the connection to the engine; containers keep running."""

    @abc.abstractmethod
    async def pull(self, image: str, *, auth: RegistryAuth | None = None) -> None:
        """Make `image` available locally, fetching it only when it is missing.

        With `auth` the registry is always asked (with those credentials), even when a copy
        is here: the registry decides whether its owner may read it.
        Raises InvalidImageNameError for a malformed reference and ImagePullError when the
        image cannot be fetched.
        """

    @abc.abstractmethod
    async def commit(self, job_id: str, image: str) -> None:
        """Snapshot the job's container as the local image `image` (`name:tag`).

        Raises ContainerNotFoundError when the job has no container."""

    @abc.abstractmethod
    def push(self, image: str, *, auth: RegistryAuth) -> AsyncIterator[dict[str, Any]]:
        """Push the local `image` to its registry; yields the engine's progress objects.

        Raises ImagePushError (after the progress so far) when the push fails.
        """

    @abc.abstractmethod
    async def remove_image(self, image: str) -> None:
        """Remove the local tag `image` (no-op when it is not here)."""

    @abc.abstractmethod
    async def start(
        self, spec: ContainerSpec, progress: StartProgress | None = None
    ) -> ContainerState:
        """Create and start the job's container, pulling its image when missing.

        An engine that queues jobs before running them tells `progress` why they wait.

        Idempotent per job id: when the container exists already it is left as it is (started
        if it was only created) and its state returned. A container the engine cannot run
        (missing executable, bad working directory) comes back EXITED with reason
        ContainerCannotRun rather than raising.
        """

    @abc.abstractmethod
    async def state(self, job_id: str) -> ContainerState:
        """Raises ContainerNotFoundError when the job has no container."""

    @abc.abstractmethod
    async def wait(self, job_id: str) -> ContainerState:
        """Block until the job's container has exited; return its final state."""

    @abc.abstractmethod
    async def list_managed(self) -> list[ContainerState]:
        """The containers this platform instance owns, running or finished."""

    @abc.abstractmethod
    async def stop(self, job_id: str, *, timeout_s: float = 10.0) -> None:
        """Ask the job to stop (SIGTERM), killing it after `timeout_s`. No-op when stopped."""

    @abc.abstractmethod
    async def kill(self, job_id: str, *, signal: str = "SIGKILL") -> None:
        """Send `signal` to the job. Raises ContainerNotRunningError when it has exited."""

    @abc.abstractmethod
    async def remove(self, job_id: str) -> None:
        """Delete the job's container (killing it first). No-op when it is already gone."""

    @abc.abstractmethod
    def logs(
        self,
        job_id: str,
        *,
        since: datetime | None = None,
        timestamps: bool = False,
        follow: bool = False,
        tail: int | None = None,
    ) -> AsyncIterator[bytes]:
        """The job's output (stdout and stderr interleaved) as raw byte chunks.

        With `timestamps` every line starts with an RFC 3339 timestamp and a space. With
        `follow` the iterator ends only when the container exits. `tail` keeps only the last
        lines the engine retains (before `since` applies). Engines keep a bounded log, and a
        follower that falls behind may miss lines: complete output is `jobs.log_archiver`'s.
        """

    @abc.abstractmethod
    async def stats(self, job_id: str) -> ContainerStats | None:
        """A resource usage sample; None when the container is not running."""

    @abc.abstractmethod
    async def ip_address(self, job_id: str) -> str | None:
        """The container's address reachable from the platform host; None when not running."""

    @abc.abstractmethod
    def exec(
        self, job_id: str, command: Sequence[str], options: StreamOptions
    ) -> AbstractAsyncContextManager[InteractiveSession]:
        """Run `command` in the job's container, connected to the streams `options` names.

        Raises ContainerNotFoundError / ContainerNotRunningError before yielding; a command
        the container cannot run yields a session whose exit code says so (126/127).
        """

    @abc.abstractmethod
    def attach(
        self, job_id: str, options: StreamOptions
    ) -> AbstractAsyncContextManager[InteractiveSession]:
        """Connect to the job's own streams (stdin only reaches a job started with a tty).

        Raises ContainerNotFoundError / ContainerNotRunningError before yielding.
        """

    # -- networks: which containers reach which ------------------------------------------

    @abc.abstractmethod
    async def ensure_network(self, name: str, labels: Mapping[str, str]) -> None:
        """Create the network `name` unless it exists. Containers on different networks
        cannot reach each other; a container started with `spec.network` is on that one."""

    @abc.abstractmethod
    async def remove_network(self, name: str) -> bool:
        """Remove it unless containers still use it; returns whether it is gone."""

    @abc.abstractmethod
    async def list_networks(self) -> list[str]:
        """The names of this platform instance's networks."""

    @abc.abstractmethod
    async def connect(self, job_id: str, network: str) -> str | None:
        """Attach the job's container to `network` too; returns its address there."""

    @abc.abstractmethod
    async def disconnect(self, job_id: str, network: str) -> None:
        """Detach it (no-op when it is not attached, or the container or network is gone)."""
