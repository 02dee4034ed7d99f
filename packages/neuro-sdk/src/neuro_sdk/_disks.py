"""Disks API (docs/protocol.md §8.2): persistent disks that jobs mount."""

import enum
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from yarl import URL

from ._config import Config
from ._core import _Core
from ._org import ORG_NAME_SENTINEL, OrgName, resolve_org


@dataclass(frozen=True)
class Disk:
    """A persistent disk; ``used_bytes`` is refreshed periodically by the platform."""

    id: str
    storage: int
    owner: str
    status: "Disk.Status"
    cluster_name: str
    org_name: str | None
    created_at: datetime
    last_usage: datetime | None = None
    name: str | None = None
    timeout_unused: timedelta | None = None
    used_bytes: int | None = None

    class Status(enum.Enum):
        PENDING = "Pending"
        READY = "Ready"
        BROKEN = "Broken"

    @property
    def uri(self) -> URL:
        org = f"{self.org_name}/" if self.org_name else ""
        return URL(f"disk://{self.cluster_name}/{org}{self.owner}/{self.id}")


class Disks:
    """Disks API, available as ``Client.disks``."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config

    @asynccontextmanager
    async def list(self, cluster_name: str | None = None) -> AsyncIterator[AsyncIterator[Disk]]:
        disks = self._iterate(cluster_name or self._config.cluster_name)
        try:
            yield disks
        finally:
            await disks.aclose()

    async def create(
        self,
        storage: int,
        timeout_unused: timedelta | None = None,
        name: str | None = None,
        cluster_name: str | None = None,
        org_name: OrgName = ORG_NAME_SENTINEL,
        *,
        life_span: timedelta | None = None,
    ) -> Disk:
        """A new disk of ``storage`` bytes, deleted after ``timeout_unused`` without use;
        in the current org unless ``org_name`` says otherwise (None: no org).

        ``life_span`` is the reference's name of ``timeout_unused`` (22.6.3 has the latter).
        """
        if life_span is not None:
            if timeout_unused is not None:
                raise ValueError("Give timeout_unused or life_span, not both")
            timeout_unused = life_span
        cluster = cluster_name or self._config.cluster_name
        body = {
            "storage": storage,
            "life_span": None if timeout_unused is None else timeout_unused.total_seconds(),
            "name": name,
            "org_name": resolve_org(org_name, self._config),
        }
        async with self._core.request(
            "POST", self._url(cluster), json=body, auth=await self._config._api_auth()
        ) as response:
            return _disk_from_api(await response.json(), cluster)

    async def get(
        self, disk_id_or_name: str, cluster_name: str | None = None, owner: str | None = None
    ) -> Disk:
        """A disk by id or name; ``owner`` (or ``owner/name``) names another user's disk."""
        cluster = cluster_name or self._config.cluster_name
        url, params = self._disk_url(cluster, disk_id_or_name, owner)
        async with self._core.request(
            "GET", url, params=params, auth=await self._config._api_auth()
        ) as response:
            return _disk_from_api(await response.json(), cluster)

    async def rm(
        self, disk_id_or_name: str, cluster_name: str | None = None, owner: str | None = None
    ) -> None:
        cluster = cluster_name or self._config.cluster_name
        url, params = self._disk_url(cluster, disk_id_or_name, owner)
        async with self._core.request(
            "DELETE", url, params=params, auth=await self._config._api_auth()
        ):
            pass

    async def _iterate(self, cluster_name: str) -> AsyncGenerator[Disk]:
        async with self._core.request(
            "GET", self._url(cluster_name), auth=await self._config._api_auth()
        ) as response:
            payload = await response.json()
        for item in payload:
            yield _disk_from_api(item, cluster_name)

    def _disk_url(
        self, cluster_name: str, id_or_name: str, owner: str | None
    ) -> tuple[URL, dict[str, str]]:
        # "owner/name" names another user's disk (one shared with the caller).
        prefix, sep, name = id_or_name.rpartition("/")
        if not name or (sep and owner is not None and owner != prefix):
            raise ValueError(f"Invalid disk id or name {id_or_name!r}")
        owner = prefix if sep else owner
        return self._url(cluster_name) / name, ({"owner": owner} if owner else {})

    def _url(self, cluster_name: str) -> URL:
        cluster = self._config.clusters.get(cluster_name)
        if cluster is None:
            raise ValueError(f"Unknown cluster {cluster_name!r}")
        return cluster.disks_url


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _disk_from_api(item: dict[str, Any], cluster_name: str) -> Disk:
    life_span = item.get("life_span")
    return Disk(
        id=item["id"],
        storage=item["storage"],
        owner=item["owner"],
        status=Disk.Status(item["status"]),
        cluster_name=cluster_name,
        created_at=datetime.fromisoformat(item["created_at"]),
        org_name=item.get("org_name"),
        name=item.get("name"),
        used_bytes=item.get("used_bytes"),
        last_usage=_time(item.get("last_usage")),
        timeout_unused=None if life_span is None else timedelta(seconds=life_span),
    )
