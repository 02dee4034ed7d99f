"""Service accounts API (docs/protocol.md §8.3): roles with a token for automation."""

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._config import Config
from ._core import _Core


@dataclass(frozen=True)
class ServiceAccount:
    id: str
    name: str | None
    owner: str
    default_cluster: str
    role: str
    created_at: datetime
    role_deleted: bool = False


class ServiceAccounts:
    """Service accounts API, available as ``Client.service_accounts``."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config

    @asynccontextmanager
    async def list(self) -> AsyncIterator[AsyncIterator[ServiceAccount]]:
        accounts = self._iterate()
        try:
            yield accounts
        finally:
            await accounts.aclose()

    async def create(
        self, name: str | None = None, default_cluster: str | None = None
    ) -> tuple[ServiceAccount, str]:
        """The new account and its token (a ``NEURO_PASSED_CONFIG`` value), which the
        platform hands out this once only."""
        body = {"name": name, "default_cluster": default_cluster or self._config.cluster_name}
        async with self._core.request(
            "POST",
            self._config.service_accounts_url,
            json=body,
            auth=await self._config._api_auth(),
        ) as response:
            payload = await response.json()
        return _account_from_api(payload), payload["token"]

    async def get(self, id_or_name: str) -> ServiceAccount:
        async with self._core.request(
            "GET",
            self._config.service_accounts_url / id_or_name,
            auth=await self._config._api_auth(),
        ) as response:
            return _account_from_api(await response.json())

    async def rm(self, id_or_name: str) -> None:
        """Delete the account; its token stops working at once."""
        async with self._core.request(
            "DELETE",
            self._config.service_accounts_url / id_or_name,
            auth=await self._config._api_auth(),
        ):
            pass

    async def _iterate(self) -> AsyncGenerator[ServiceAccount]:
        async for item in self._core.stream_json(
            "GET", self._config.service_accounts_url, auth=await self._config._api_auth()
        ):
            yield _account_from_api(item)


def _account_from_api(item: dict[str, Any]) -> ServiceAccount:
    return ServiceAccount(
        id=item["id"],
        role=item["role"],
        owner=item["owner"],
        default_cluster=item["default_cluster"],
        created_at=datetime.fromisoformat(item["created_at"]),
        name=item.get("name"),
        role_deleted=bool(item.get("role_deleted", False)),
    )
