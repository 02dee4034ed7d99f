"""The admin API client (docs/protocol.md §2.7), ``Client._admin``: cluster users, orgs, org
users and org clusters, with their roles, quotas and credits.

Experimental in the original too, hence the underscore names (the original re-exports its
``neuro-admin-client`` library's types under them); the ``neuro admin`` commands and
``Users.get_quota`` use it. Without ``admin_url`` in the server's config every call raises
``NotSupportedError``.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from ._errors import NotSupportedError

if TYPE_CHECKING:
    from ._config import Config
    from ._core import _Core


@dataclass(frozen=True)
class _UserInfo:
    email: str
    first_name: str | None = None
    last_name: str | None = None
    created_at: datetime | None = None

    @property
    def full_name(self) -> str:
        return " ".join(n for n in (self.first_name, self.last_name) if n)


@dataclass(frozen=True)
class _Balance:
    credits: Decimal | None = None  # left; None: unlimited
    spent_credits: Decimal = Decimal(0)

    @property
    def is_non_positive(self) -> bool:
        return self.credits is not None and self.credits <= 0


@dataclass(frozen=True)
class _Quota:
    total_running_jobs: int | None = None  # None: no limit


class _ClusterUserRoleType(str, enum.Enum):  # noqa: UP042 (str() is the value, as in the original)
    ADMIN = "admin"
    MANAGER = "manager"
    MEMBER = "member"
    USER = "user"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return repr(self.value)


class _OrgUserRoleType(str, enum.Enum):  # noqa: UP042
    ADMIN = "admin"
    MANAGER = "manager"
    USER = "user"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return repr(self.value)


@dataclass(frozen=True)
class _Cluster:
    name: str
    default_credits: Decimal | None
    default_quota: _Quota
    default_role: _ClusterUserRoleType
    maintenance: bool = False


@dataclass(frozen=True)
class _Org:
    name: str


@dataclass(frozen=True)
class _OrgUser:
    org_name: str
    user_name: str
    role: _OrgUserRoleType

    def add_info(self, user_info: _UserInfo) -> _OrgUserWithInfo:
        return _OrgUserWithInfo(self.org_name, self.user_name, self.role, user_info)


@dataclass(frozen=True)
class _OrgUserWithInfo(_OrgUser):
    user_info: _UserInfo


@dataclass(frozen=True)
class _OrgCluster:
    org_name: str
    cluster_name: str
    balance: _Balance
    quota: _Quota
    default_credits: Decimal | None = None
    default_quota: _Quota = field(default_factory=_Quota)
    default_role: _ClusterUserRoleType = _ClusterUserRoleType.USER
    storage_size: int | None = None
    maintenance: bool = False


@dataclass(frozen=True)
class _ClusterUser:
    cluster_name: str
    user_name: str
    role: _ClusterUserRoleType
    quota: _Quota
    balance: _Balance
    org_name: str | None

    def add_info(self, user_info: _UserInfo) -> _ClusterUserWithInfo:
        return _ClusterUserWithInfo(
            self.cluster_name,
            self.user_name,
            self.role,
            self.quota,
            self.balance,
            self.org_name,
            user_info,
        )


@dataclass(frozen=True)
class _ClusterUserWithInfo(_ClusterUser):
    user_info: _UserInfo


# Cloud provisioning of the hosted platform: the types exist for code that names them; no
# call of ours returns them (a self-hosted cluster is configured in the server's settings).
@dataclass(frozen=True)
class _NodePool:
    min_size: int
    max_size: int
    machine_type: str
    available_cpu: float
    available_memory_mb: int
    disk_size_gb: int
    disk_type: str | None = None
    gpu: int = 0
    gpu_model: str | None = None
    is_preemptible: bool = False
    idle_size: int = 0


@dataclass(frozen=True)
class _StorageInstance:
    name: str | None = None
    size_mb: int | None = None


@dataclass(frozen=True)
class _Storage:
    description: str
    instances: list[_StorageInstance]


@dataclass(frozen=True)
class _CloudProvider:
    type: str
    region: str | None
    zones: list[str]
    node_pools: list[_NodePool]
    storage: _Storage | None


@dataclass(frozen=True)
class _ConfigCluster:
    name: str
    status: str
    cloud_provider: _CloudProvider | None = None


class _Admin:
    """Calls of the admin API at the config's ``admin_url``."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config

    @property
    def _admin_url(self) -> URL:
        url = self._config.admin_url
        if not url:
            raise NotSupportedError("admin API is not supported by server")
        return url

    @asynccontextmanager
    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        url = self._admin_url / path
        auth = await self._config._api_auth()
        async with self._core.request(method, url, params=params, json=json, auth=auth) as resp:
            yield resp

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        async with self._request(method, path, json=json, params=params) as resp:
            if resp.status == 204:
                return None
            return await resp.json()

    # -- clusters --------------------------------------------------------------------------

    async def list_clusters(self) -> list[_Cluster]:
        return [_cluster(c) for c in await self._call("GET", "clusters")]

    async def get_cluster(self, name: str) -> _Cluster:
        return _cluster(await self._call("GET", f"clusters/{name}"))

    async def create_cluster(
        self,
        name: str,
        default_credits: Decimal | None = None,
        default_quota: _Quota = _Quota(),
        default_role: _ClusterUserRoleType = _ClusterUserRoleType.USER,
    ) -> _Cluster:
        payload: dict[str, Any] = {
            "name": name,
            "default_quota": _quota_json(default_quota),
            "default_role": str(default_role),
        }
        if default_credits is not None:
            payload["default_credits"] = str(default_credits)
        return _cluster(await self._call("POST", "clusters", json=payload))

    async def update_cluster(self, cluster: _Cluster) -> None:
        payload: dict[str, Any] = {
            "name": cluster.name,
            "default_quota": _quota_json(cluster.default_quota),
            "default_role": str(cluster.default_role),
            "maintenance": cluster.maintenance,
        }
        if cluster.default_credits is not None:
            payload["default_credits"] = str(cluster.default_credits)
        await self._call("PUT", f"clusters/{cluster.name}", json=payload)

    async def delete_cluster(self, name: str) -> None:
        await self._call("DELETE", f"clusters/{name}")

    # -- cluster users ---------------------------------------------------------------------

    async def list_cluster_users(
        self, cluster_name: str, with_user_info: bool = False, org_name: str | None = None
    ) -> list[_ClusterUser]:
        payload = await self._call(
            "GET", _users_path(cluster_name, org_name), params=_info(with_user_info)
        )
        return [_cluster_user(cluster_name, u) for u in payload]

    async def get_cluster_user(
        self,
        cluster_name: str,
        user_name: str,
        with_user_info: bool = False,
        org_name: str | None = None,
    ) -> _ClusterUser:
        path = f"{_users_path(cluster_name, org_name)}/{user_name}"
        return _cluster_user(
            cluster_name, await self._call("GET", path, params=_info(with_user_info))
        )

    async def create_cluster_user(
        self,
        cluster_name: str,
        user_name: str,
        role: _ClusterUserRoleType,
        quota: _Quota | None = None,
        balance: _Balance | None = None,
        with_user_info: bool = False,
        org_name: str | None = None,
    ) -> _ClusterUser:
        payload: dict[str, Any] = {"user_name": user_name, "role": str(role)}
        if org_name:
            payload["org_name"] = org_name
        if quota is not None:
            payload["quota"] = _quota_json(quota)
        if balance is not None and balance.credits is not None:
            payload["balance"] = {"credits": str(balance.credits)}
        body = await self._call(
            "POST", f"clusters/{cluster_name}/users", json=payload, params=_info(with_user_info)
        )
        return _cluster_user(cluster_name, body)

    async def update_cluster_user(
        self, cluster_user: _ClusterUser, with_user_info: bool = False
    ) -> _ClusterUser:
        payload: dict[str, Any] = {
            "user_name": cluster_user.user_name,
            "role": str(cluster_user.role),
            "quota": _quota_json(cluster_user.quota),
        }
        if cluster_user.org_name:
            payload["org_name"] = cluster_user.org_name
        path = (
            f"{_users_path(cluster_user.cluster_name, cluster_user.org_name)}/"
            f"{cluster_user.user_name}"
        )
        body = await self._call("PUT", path, json=payload, params=_info(with_user_info))
        return _cluster_user(cluster_user.cluster_name, body)

    async def delete_cluster_user(
        self, cluster_name: str, user_name: str, org_name: str | None = None
    ) -> None:
        await self._call("DELETE", f"{_users_path(cluster_name, org_name)}/{user_name}")

    async def update_cluster_user_quota(
        self,
        cluster_name: str,
        user_name: str,
        quota: _Quota,
        org_name: str | None = None,
        with_user_info: bool = False,
    ) -> _ClusterUser:
        path = f"{_users_path(cluster_name, org_name)}/{user_name}/quota"
        body = await self._call(
            "PATCH", path, json={"quota": _quota_json(quota)}, params=_info(with_user_info)
        )
        return _cluster_user(cluster_name, body)

    async def update_cluster_user_quota_by_delta(
        self,
        cluster_name: str,
        user_name: str,
        delta: _Quota,
        org_name: str | None = None,
        with_user_info: bool = False,
    ) -> _ClusterUser:
        path = f"{_users_path(cluster_name, org_name)}/{user_name}/quota"
        payload = {"additional_quota": {"total_running_jobs": delta.total_running_jobs}}
        body = await self._call("PATCH", path, json=payload, params=_info(with_user_info))
        return _cluster_user(cluster_name, body)

    async def update_cluster_user_balance(
        self,
        cluster_name: str,
        user_name: str,
        credits: Decimal | None,
        org_name: str | None = None,
        with_user_info: bool = False,
    ) -> _ClusterUser:
        path = f"{_users_path(cluster_name, org_name)}/{user_name}/balance"
        payload = {"credits": None if credits is None else str(credits)}
        body = await self._call("PATCH", path, json=payload, params=_info(with_user_info))
        return _cluster_user(cluster_name, body)

    async def update_cluster_user_balance_by_delta(
        self,
        cluster_name: str,
        user_name: str,
        delta: Decimal,
        org_name: str | None = None,
        with_user_info: bool = False,
    ) -> _ClusterUser:
        path = f"{_users_path(cluster_name, org_name)}/{user_name}/balance"
        payload = {"additional_credits": str(delta)}
        body = await self._call("PATCH", path, json=payload, params=_info(with_user_info))
        return _cluster_user(cluster_name, body)

    # -- orgs and org users ----------------------------------------------------------------

    async def list_orgs(self) -> list[_Org]:
        return [_Org(o["name"]) for o in await self._call("GET", "orgs")]

    async def get_org(self, name: str) -> _Org:
        return _Org((await self._call("GET", f"orgs/{name}"))["name"])

    async def create_org(self, name: str, skip_auto_add_to_clusters: bool = False) -> _Org:
        params = {"skip_auto_add_to_clusters": str(skip_auto_add_to_clusters).lower()}
        return _Org((await self._call("POST", "orgs", json={"name": name}, params=params))["name"])

    async def delete_org(self, name: str) -> None:
        await self._call("DELETE", f"orgs/{name}")

    async def list_org_users(self, org_name: str, with_user_info: bool = False) -> list[_OrgUser]:
        payload = await self._call("GET", f"orgs/{org_name}/users", params=_info(with_user_info))
        return [_org_user(org_name, u) for u in payload]

    async def get_org_user(
        self, org_name: str, user_name: str, with_user_info: bool = False
    ) -> _OrgUser:
        path = f"orgs/{org_name}/users/{user_name}"
        return _org_user(org_name, await self._call("GET", path, params=_info(with_user_info)))

    async def create_org_user(
        self,
        org_name: str,
        user_name: str,
        role: _OrgUserRoleType,
        with_user_info: bool = False,
    ) -> _OrgUser:
        payload = {"user_name": user_name, "role": str(role)}
        body = await self._call(
            "POST", f"orgs/{org_name}/users", json=payload, params=_info(with_user_info)
        )
        return _org_user(org_name, body)

    async def update_org_user(self, org_user: _OrgUser, with_user_info: bool = False) -> _OrgUser:
        payload = {"user_name": org_user.user_name, "role": str(org_user.role)}
        path = f"orgs/{org_user.org_name}/users/{org_user.user_name}"
        body = await self._call("PUT", path, json=payload, params=_info(with_user_info))
        return _org_user(org_user.org_name, body)

    async def delete_org_user(self, org_name: str, user_name: str) -> None:
        await self._call("DELETE", f"orgs/{org_name}/users/{user_name}")

    # -- org clusters ----------------------------------------------------------------------

    async def list_org_clusters(self, cluster_name: str) -> list[_OrgCluster]:
        payload = await self._call("GET", f"clusters/{cluster_name}/orgs")
        return [_org_cluster(cluster_name, o) for o in payload]

    async def get_org_cluster(self, cluster_name: str, org_name: str) -> _OrgCluster:
        body = await self._call("GET", f"clusters/{cluster_name}/orgs/{org_name}")
        return _org_cluster(cluster_name, body)

    async def create_org_cluster(
        self,
        cluster_name: str,
        org_name: str,
        quota: _Quota = _Quota(),
        balance: _Balance = _Balance(),
        default_quota: _Quota = _Quota(),
        default_credits: Decimal | None = None,
        default_role: _ClusterUserRoleType = _ClusterUserRoleType.USER,
        storage_size: int | None = None,
    ) -> _OrgCluster:
        payload = _org_cluster_json(
            _OrgCluster(
                org_name=org_name,
                cluster_name=cluster_name,
                balance=balance,
                quota=quota,
                default_credits=default_credits,
                default_quota=default_quota,
                default_role=default_role,
                storage_size=storage_size,
            )
        )
        body = await self._call("POST", f"clusters/{cluster_name}/orgs", json=payload)
        return _org_cluster(cluster_name, body)

    async def update_org_cluster(self, org_cluster: _OrgCluster) -> None:
        path = f"clusters/{org_cluster.cluster_name}/orgs/{org_cluster.org_name}"
        await self._call("PUT", path, json=_org_cluster_json(org_cluster))

    async def delete_org_cluster(self, cluster_name: str, org_name: str) -> None:
        await self._call("DELETE", f"clusters/{cluster_name}/orgs/{org_name}")

    async def update_org_cluster_defaults(
        self,
        cluster_name: str,
        org_name: str,
        default_quota: _Quota = _Quota(),
        default_credits: Decimal | None = None,
        default_role: _ClusterUserRoleType = _ClusterUserRoleType.USER,
    ) -> _OrgCluster:
        payload: dict[str, Any] = {
            "quota": _quota_json(default_quota),
            "default_role": str(default_role),
        }
        if default_credits is not None:
            payload["credits"] = str(default_credits)
        path = f"clusters/{cluster_name}/orgs/{org_name}/defaults"
        return _org_cluster(cluster_name, await self._call("PATCH", path, json=payload))

    async def update_org_cluster_quota(
        self, cluster_name: str, org_name: str, quota: _Quota
    ) -> _OrgCluster:
        path = f"clusters/{cluster_name}/orgs/{org_name}/quota"
        body = await self._call("PATCH", path, json={"quota": _quota_json(quota)})
        return _org_cluster(cluster_name, body)

    async def update_org_cluster_quota_by_delta(
        self, cluster_name: str, org_name: str, delta: _Quota
    ) -> _OrgCluster:
        path = f"clusters/{cluster_name}/orgs/{org_name}/quota"
        payload = {"additional_quota": {"total_running_jobs": delta.total_running_jobs}}
        return _org_cluster(cluster_name, await self._call("PATCH", path, json=payload))

    async def update_org_cluster_balance(
        self, cluster_name: str, org_name: str, credits: Decimal | None
    ) -> _OrgCluster:
        path = f"clusters/{cluster_name}/orgs/{org_name}/balance"
        payload = {"credits": None if credits is None else str(credits)}
        return _org_cluster(cluster_name, await self._call("PATCH", path, json=payload))

    async def update_org_cluster_balance_by_delta(
        self, cluster_name: str, org_name: str, delta: Decimal
    ) -> _OrgCluster:
        path = f"clusters/{cluster_name}/orgs/{org_name}/balance"
        payload = {"additional_credits": str(delta)}
        return _org_cluster(cluster_name, await self._call("PATCH", path, json=payload))


def _info(with_user_info: bool) -> dict[str, str]:
    return {"with_user_info": str(with_user_info).lower()}


def _users_path(cluster_name: str, org_name: str | None) -> str:
    if org_name:
        return f"clusters/{cluster_name}/orgs/{org_name}/users"
    return f"clusters/{cluster_name}/users"


def _quota(payload: dict[str, Any] | None) -> _Quota:
    return _Quota((payload or {}).get("total_running_jobs"))


def _quota_json(quota: _Quota) -> dict[str, Any]:
    if quota.total_running_jobs is None:
        return {}
    return {"total_running_jobs": quota.total_running_jobs}


def _decimal(value: Any) -> Decimal | None:
    return Decimal(value) if value else None


def _balance(payload: dict[str, Any] | None) -> _Balance:
    if payload is None:
        return _Balance()
    return _Balance(
        credits=_decimal(payload.get("credits")),
        spent_credits=Decimal(payload.get("spent_credits") or 0),
    )


def _user_info(payload: dict[str, Any]) -> _UserInfo:
    created_at = payload.get("created_at")
    return _UserInfo(
        email=payload.get("email", ""),
        first_name=payload.get("first_name"),
        last_name=payload.get("last_name"),
        created_at=datetime.fromisoformat(created_at) if created_at else None,
    )


def _cluster(payload: dict[str, Any]) -> _Cluster:
    return _Cluster(
        name=payload["name"],
        default_credits=_decimal(payload.get("default_credits")),
        default_quota=_quota(payload.get("default_quota")),
        default_role=_ClusterUserRoleType(payload.get("default_role", "user")),
        maintenance=bool(payload.get("maintenance", False)),
    )


def _cluster_user(cluster_name: str, payload: dict[str, Any]) -> _ClusterUser:
    user = _ClusterUser(
        cluster_name=cluster_name,
        user_name=payload["user_name"],
        role=_ClusterUserRoleType(payload["role"]),
        quota=_quota(payload.get("quota")),
        balance=_balance(payload.get("balance")),
        org_name=payload.get("org_name"),
    )
    if "user_info" in payload:
        return user.add_info(_user_info(payload["user_info"]))
    return user


def _org_user(org_name: str, payload: dict[str, Any]) -> _OrgUser:
    user = _OrgUser(org_name, payload["user_name"], _OrgUserRoleType(payload["role"]))
    if "user_info" in payload:
        return user.add_info(_user_info(payload["user_info"]))
    return user


def _org_cluster(cluster_name: str, payload: dict[str, Any]) -> _OrgCluster:
    return _OrgCluster(
        org_name=payload["org_name"],
        cluster_name=cluster_name,
        balance=_balance(payload.get("balance")),
        quota=_quota(payload.get("quota")),
        default_credits=_decimal(payload.get("default_credits")),
        default_quota=_quota(payload.get("default_quota")),
        default_role=_ClusterUserRoleType(payload.get("default_role", "user")),
        storage_size=payload.get("storage_size"),
        maintenance=bool(payload.get("maintenance", False)),
    )


def _org_cluster_json(org_cluster: _OrgCluster) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "org_name": org_cluster.org_name,
        "quota": _quota_json(org_cluster.quota),
        "default_quota": _quota_json(org_cluster.default_quota),
        "default_role": str(org_cluster.default_role),
        "maintenance": org_cluster.maintenance,
    }
    credits = org_cluster.balance.credits
    payload["balance"] = {"credits": None if credits is None else str(credits)}
    if org_cluster.default_credits is not None:
        payload["default_credits"] = str(org_cluster.default_credits)
    if org_cluster.storage_size is not None:
        payload["storage_size"] = org_cluster.storage_size
    return payload
