"""Which jobs a job reaches: one engine network and one hosts file per (cluster, owner).

A job may reach, by name and by address, only the jobs its owner may read: its owner's own
and those shared with its owner (`read` on the job's id or name URI). Everything else is
neither named in its `/etc/hosts` nor routable:

* Every job container starts on its owner's network (a user-defined bridge, created on
  demand). The engine drops traffic between two such networks, so a job of bob cannot reach
  alice's jobs at their addresses, whatever it guesses.
* When alice's running job becomes readable by bob, and bob has jobs running, her container
  also joins bob's network and bob's hosts file names it, at its address on bob's network.
  `reconcile` compares this with the permissions on every scheduler pass and undoes both
  when the permission goes; a job started later joins the networks of the users who may
  read it by the same rule. Only readable jobs join: bob's jobs never join alice's network
  unless alice may read them.
* A network without jobs is removed (the engine refuses while a container still uses it).

A job's own name resolves from the moment its container is created (the address Debian
gives a host without a fixed one), since the engine gives the real address only once the
job's process runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path

from ..orchestrator import ContainerState, Orchestrator, OrchestratorError
from ..permissions import PermissionService
from ..permissions.actions import Action
from ..permissions.uris import parse_uri
from .entities import Job
from .host_names import internal_hostnames
from .hosts_file import HostsFile

log = logging.getLogger(__name__)

OWN_NAME_ADDRESS = "127.0.1.1"
# (cluster, owner): who a network and a hosts file belong to.
Reader = tuple[str, str]


def reader_of(job: Job) -> Reader:
    return job.cluster_name, job.owner


def network_name(reader: Reader) -> str:
    # Cluster and user names have neither '_' nor '.', so this is unambiguous; service
    # accounts (`alice/service-accounts/x`) get networks of their own.
    cluster, owner = reader
    return f"{cluster}_{owner.replace('/', '.')}"


def _reader_of_network(name: str) -> Reader | None:
    cluster, separator, owner = name.partition("_")
    return (cluster, owner.replace(".", "/")) if separator else None


def host_names(job: Job) -> tuple[str, ...]:
    # The bare job id too: it is the container's own host name.
    return (*internal_hostnames(job), job.id)


class JobNetworks:
    def __init__(
        self, orchestrator: Orchestrator, hosts_dir: Path, permissions: PermissionService
    ) -> None:
        self._orchestrator = orchestrator
        self._hosts_dir = hosts_dir
        self._permissions = permissions
        self._hosts: dict[Reader, HostsFile] = {}
        self._networks: set[Reader] = set()  # known to exist
        # Held while a network is made or removed, so a start never finds it half gone.
        self._locks: dict[Reader, asyncio.Lock] = {}
        # Starts between the network's creation and the container's: the network has no
        # container yet, and must not be removed as unused.
        self._starting: Counter[Reader] = Counter()
        self._own: dict[str, Job] = {}  # running jobs named on their owner's network
        self._joined: dict[str, dict[Reader, str]] = {}  # job id -> other networks, address

    def close(self) -> None:
        for hosts in self._hosts.values():
            hosts.close()

    # -- what a job's container is given -------------------------------------------------

    def network(self, job: Job) -> str:
        return network_name(reader_of(job))

    def hosts_path(self, job: Job) -> Path:
        return self._file(reader_of(job)).path

    @contextlib.asynccontextmanager
    async def starting(self, job: Job) -> AsyncIterator[None]:
        """Around the start of a job's container: its owner's network exists meanwhile."""
        reader = reader_of(job)
        # A restarted job gets a new container, on its owner's network only: it joins the
        # others again on the next pass.
        self._own.pop(job.id, None)
        for joined in self._joined.pop(job.id, {}):
            self._file(joined).remove(job.id)
        async with self._lock(reader):
            if reader not in self._networks:
                await self._orchestrator.ensure_network(network_name(reader), {})
                self._networks.add(reader)
            self._starting[reader] += 1
        try:
            self._file(reader).add(job.id, OWN_NAME_ADDRESS, (job.id,))
            yield
        finally:
            self._starting[reader] -= 1

    def named(self, job: Job, state: ContainerState) -> None:
        """The job runs at `state`: its owner's jobs reach it by name from now on."""
        address = state.addresses.get(self.network(job), state.address)
        if address is not None:
            self._file(reader_of(job)).add(job.id, address, host_names(job))
            self._own[job.id] = job

    def forget(self, job: Job) -> None:
        """The job's container is going away: no hosts file names it any longer."""
        self._own.pop(job.id, None)
        self._file(reader_of(job)).remove(job.id)
        for reader in self._joined.pop(job.id, {}):
            self._file(reader).remove(job.id)

    # -- keeping it in line with the permissions -----------------------------------------

    async def reconcile(self, jobs: Sequence[Job]) -> None:
        """`jobs`: those running or starting. Joins each running job to the networks of the
        users who may read it and have jobs, leaves the others, removes unused networks."""
        readers = {reader_of(j) for j in jobs} | {r for r, n in self._starting.items() if n}
        for job in jobs:
            if job.id not in self._own:
                continue  # not running yet: named (and joined) once it is
            wanted = {
                r
                for r in readers
                if r[0] == job.cluster_name and r != reader_of(job) and await self._may_read(r, job)
            }
            joined = self._joined.setdefault(job.id, {})
            for reader in wanted - joined.keys():
                await self._join(job, reader, joined)
            for reader in joined.keys() - wanted:
                await self._leave(job, reader, joined)
        for reader in self._networks - readers:
            await self._remove_unused(reader)

    async def adopt(self, running: Iterable[tuple[Job, ContainerState]]) -> None:
        """After a restart of the platform: rebuild every hosts file from the containers
        that still run; the next `reconcile` corrects what changed meanwhile."""
        self._networks = {
            reader
            for name in await self._orchestrator.list_networks()
            if (reader := _reader_of_network(name)) is not None
        }
        entries: dict[Reader, dict[str, tuple[str, Sequence[str]]]] = {}
        for job, state in running:
            self._own[job.id] = job
            joined = self._joined.setdefault(job.id, {})
            for name, address in state.addresses.items():
                reader = _reader_of_network(name)
                if reader is None:
                    continue
                entries.setdefault(reader, {})[job.id] = (address, host_names(job))
                if reader != reader_of(job):
                    joined[reader] = address
            if self.network(job) not in state.addresses and state.address is not None:
                # Started before jobs had networks of their own: on the default bridge.
                entries.setdefault(reader_of(job), {})[job.id] = (state.address, host_names(job))
        for reader in {*self._networks, *entries}:
            self._file(reader).reset(entries.get(reader, {}))

    async def _join(self, job: Job, reader: Reader, joined: dict[Reader, str]) -> None:
        try:
            address = await self._orchestrator.connect(job.id, network_name(reader))
        except OrchestratorError as error:  # e.g. the job ended meanwhile: next pass decides
            log.warning("%s cannot join the network of %s: %s", job.id, reader, error)
            return
        if address is not None and job.id in self._own:  # not forgotten meanwhile
            joined[reader] = address
            self._file(reader).add(job.id, address, host_names(job))

    async def _leave(self, job: Job, reader: Reader, joined: dict[Reader, str]) -> None:
        # The reader may no longer read the job. The network first, then the name: once the
        # name is gone the address is out of reach too (the other order left the reader's
        # jobs reaching it, by the address they had resolved, for as long as the disconnect
        # took).
        try:
            await self._orchestrator.disconnect(job.id, network_name(reader))
        except OrchestratorError as error:  # retried on the next pass
            log.warning("%s cannot leave the network of %s: %s", job.id, reader, error)
            return
        self._file(reader).remove(job.id)
        del joined[reader]

    async def _remove_unused(self, reader: Reader) -> None:
        async with self._lock(reader):
            if self._starting[reader]:
                return
            try:
                removed = await self._orchestrator.remove_network(network_name(reader))
            except OrchestratorError as error:
                log.warning("removing the network of %s failed: %s", reader, error)
                return
            if removed:
                self._networks.discard(reader)

    async def _may_read(self, reader: Reader, job: Job) -> bool:
        grants = await self._permissions.grant_set(reader[1], {"job"})
        return any(
            grants.allows(parse_uri(uri), Action.READ)
            for uri in (job.uri, job.named_uri)
            if uri is not None
        )

    def _lock(self, reader: Reader) -> asyncio.Lock:
        return self._locks.setdefault(reader, asyncio.Lock())

    def _file(self, reader: Reader) -> HostsFile:
        hosts = self._hosts.get(reader)
        if hosts is None:
            # Named like the network. What an earlier run of the platform wrote is not
            # trusted: reset at once.
            hosts = HostsFile(self._hosts_dir / network_name(reader))
            hosts.reset({})
            self._hosts[reader] = hosts
        return hosts
