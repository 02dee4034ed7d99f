"""Secrets API (docs/protocol.md §8.1): add, list and remove; values are never read back."""

import base64
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from yarl import URL

from ._config import Config
from ._core import _Core
from ._org import ORG_NAME_SENTINEL, OrgName, resolve_org


@dataclass(frozen=True)
class Secret:
    """A secret's name and whose it is; its value stays on the server."""

    key: str
    owner: str
    cluster_name: str
    org_name: str | None

    @property
    def uri(self) -> URL:
        org = f"{self.org_name}/" if self.org_name else ""
        return URL(f"secret://{self.cluster_name}/{org}{self.owner}/{self.key}")


class Secrets:
    """Secrets API, available as ``Client.secrets``."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config

    @asynccontextmanager
    async def list(
        self, cluster_name: str | None = None, org_name: str | None = None
    ) -> AsyncIterator[AsyncIterator[Secret]]:
        """The secrets the user may read; with ``org_name``, only those of that org."""
        secrets = self._iterate(cluster_name or self._config.cluster_name, org_name)
        try:
            yield secrets
        finally:
            await secrets.aclose()

    async def add(
        self,
        key: str,
        value: bytes,
        cluster_name: str | None = None,
        org_name: OrgName = ORG_NAME_SENTINEL,
    ) -> None:
        """Create the secret ``key`` holding ``value``, or replace its value; in the current
        org unless ``org_name`` says otherwise (None: no org)."""
        body = {
            "key": key,
            "value": base64.b64encode(value).decode("ascii"),
            "org_name": resolve_org(org_name, self._config),
        }
        async with self._core.request(
            "POST", self._url(cluster_name), json=body, auth=await self._config._api_auth()
        ):
            pass

    async def rm(
        self, key: str, cluster_name: str | None = None, org_name: OrgName = ORG_NAME_SENTINEL
    ) -> None:
        """Delete the secret ``key``; ResourceNotFound when there is none."""
        org = resolve_org(org_name, self._config)
        async with self._core.request(
            "DELETE",
            self._url(cluster_name) / key,
            params={"org_name": org} if org else None,
            auth=await self._config._api_auth(),
        ):
            pass

    async def _iterate(self, cluster_name: str, org_name: str | None) -> AsyncGenerator[Secret]:
        async with self._core.request(
            "GET", self._url(cluster_name), auth=await self._config._api_auth()
        ) as response:
            payload = await response.json()
        for item in payload:
            secret = _secret_from_api(item, cluster_name)
            if org_name is None or secret.org_name == org_name:
                yield secret

    def _url(self, cluster_name: str | None) -> URL:
        name = cluster_name or self._config.cluster_name
        cluster = self._config.clusters.get(name)
        if cluster is None:
            raise ValueError(f"Unknown cluster {name!r}")
        return cluster.secrets_url


def _secret_from_api(item: dict[str, Any], cluster_name: str) -> Secret:
    return Secret(
        key=item["key"],
        owner=item["owner"],
        cluster_name=cluster_name,
        org_name=item.get("org_name"),
    )
