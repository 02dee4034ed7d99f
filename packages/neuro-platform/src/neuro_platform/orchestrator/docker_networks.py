"""The engine networks that keep jobs of different users apart (Docker Engine API 1.41).

Each network is a user-defined bridge. The engine isolates such bridges from each other and
from its default bridge (its DOCKER-ISOLATION iptables chains drop traffic between them), so
a container reaches by IP only the containers that share one of its networks. Networks are
named `neuro-<instance>-<name>` and labelled with the instance, so `list_networks` and the
tests' clean-up find exactly this installation's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiodocker
from aiodocker.exceptions import DockerError
from aiodocker.networks import DockerNetwork

from .errors import ContainerCannotRunError, ContainerNotFoundError, OrchestratorError
from .naming import LABEL_INSTANCE, LABEL_NETWORK, RESERVED_LABEL_PREFIX, network_name

_NOT_FOUND = 404
_CONFLICT = 409
_FORBIDDEN = 403  # what 20.10 answers for removing a network that still has endpoints


class DockerNetworks:
    def __init__(self, docker: aiodocker.Docker, instance: str) -> None:
        self._docker = docker
        self._instance = instance

    def _network(self, name: str) -> DockerNetwork:
        # By name: the engine takes a network's name wherever it takes its id.
        return DockerNetwork(self._docker, network_name(self._instance, name))  # type: ignore[no-untyped-call]

    async def ensure(self, name: str, labels: Mapping[str, str]) -> bool:
        """Whether this call created the network (False: it existed)."""
        try:
            full_name = network_name(self._instance, name)
        except ValueError as error:  # a job whose network cannot be named cannot run
            raise ContainerCannotRunError(str(error)) from error
        config: dict[str, Any] = {
            "Name": full_name,
            "Driver": "bridge",
            # Without it the engine happily creates a second network of the same name.
            "CheckDuplicate": True,
            "Labels": {
                **{k: v for k, v in labels.items() if not k.startswith(RESERVED_LABEL_PREFIX)},
                LABEL_INSTANCE: self._instance,
                LABEL_NETWORK: name,
            },
        }
        try:
            await self._docker.networks.create(config)
        except DockerError as error:
            if error.status != _CONFLICT:  # made meanwhile by a concurrent start: fine
                raise OrchestratorError(error.message) from error
            return False
        return True

    async def remove(self, name: str) -> bool:
        """False when containers still use it (it stays); True when it is gone."""
        try:
            await self._network(name).delete()
        except DockerError as error:
            if error.status == _NOT_FOUND:
                return True
            if error.status in (_FORBIDDEN, _CONFLICT):
                return False
            raise OrchestratorError(error.message) from error
        return True

    async def list(self) -> list[str]:
        found = await self._docker.networks.list(
            filters={"label": [f"{LABEL_INSTANCE}={self._instance}"]}
        )
        labels = [n.get("Labels") or {} for n in found]
        return [label[LABEL_NETWORK] for label in labels if label.get(LABEL_NETWORK)]

    async def connect(self, container: str, name: str) -> None:
        try:
            await self._network(name).connect({"Container": container})
        except DockerError as error:
            if error.status == _NOT_FOUND:
                raise ContainerNotFoundError(error.message) from error
            if error.status == _FORBIDDEN and "already exists" in error.message:
                return  # joined before (a retried reconciliation)
            raise OrchestratorError(error.message) from error

    async def disconnect(self, container: str, name: str) -> None:
        try:
            await self._network(name).disconnect({"Container": container, "Force": True})
        except DockerError as error:
            if error.status == _NOT_FOUND or "is not connected" in error.message:
                return  # the container or the network is gone, or never joined: no link
            raise OrchestratorError(error.message) from error
