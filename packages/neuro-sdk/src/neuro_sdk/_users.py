"""Users and sharing API (docs/protocol.md §7): permissions, shares and roles.

In URL segments a role name's ``/`` travels as ``:``, so names holding ``:`` are refused
before anything is sent.
"""

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from yarl import URL

from ._errors import ClientError

if TYPE_CHECKING:
    from ._admin import _Admin

    # Only for annotations: at run time this module (its Action enum, which storage
    # entities use) stays free of the HTTP stack.
    from ._config import Config
    from ._core import _Core

_CREATED = 201
_NO_CONTENT = 204


class Action(enum.StrEnum):
    """Access levels, each including the ones before it."""

    READ = "read"
    WRITE = "write"
    MANAGE = "manage"


@dataclass(frozen=True)
class Permission:
    """An access level on a resource, e.g. ``URL("storage://cluster/user/folder")``."""

    uri: URL
    action: Action


@dataclass(frozen=True)
class Share:
    """A permission ``user`` holds on a resource the caller shared with them."""

    user: str
    permission: Permission


@dataclass(frozen=True)
class Quota:
    """What is left to the user (or org) in the current cluster: credits (``None``:
    unlimited) and the most jobs that may run at once (``None``: no limit)."""

    credits: Decimal | None = None
    total_running_jobs: int | None = None


class Users:
    """Users and sharing API, available as ``Client.users``."""

    def __init__(self, core: "_Core", config: "Config", admin: "_Admin | None" = None) -> None:
        self._core = core
        self._config = config
        if admin is None:
            from ._admin import _Admin

            admin = _Admin(core, config)
        self._admin = admin

    async def get_quota(self) -> Quota:
        """The current user's quota in the current cluster and org (docs/protocol.md §2.7);
        unlimited when the server has no admin API."""
        from ._errors import NotSupportedError

        try:
            user = await self._admin.get_cluster_user(
                cluster_name=self._config.cluster_name,
                user_name=self._config.username,
                org_name=self._config.org_name,
            )
        except NotSupportedError:
            return Quota()
        return Quota(user.balance.credits, user.quota.total_running_jobs)

    async def get_org_quota(self) -> Quota | None:
        """The current org's quota in the current cluster; ``None`` outside any org."""
        from ._errors import NotSupportedError

        if self._config.org_name is None:
            return None
        try:
            org = await self._admin.get_org_cluster(
                self._config.cluster_name, self._config.org_name
            )
        except NotSupportedError:
            return Quota()
        return Quota(org.balance.credits, org.quota.total_running_jobs)

    async def get_acl(
        self, user: str, scheme: str | None = None, *, uri: URL | None = None
    ) -> Sequence[Permission]:
        """The permissions ``user`` holds, optionally only under a scheme or URI prefix."""
        params = _uri_filter(scheme, uri)
        async with self._core.request(
            "GET", self._user_url(user) / "permissions", params=params, auth=await self._auth()
        ) as response:
            payload = await response.json()
        return [_permission_from_api(item) for item in payload]

    async def get_shares(
        self, user: str, scheme: str | None = None, *, uri: URL | None = None
    ) -> Sequence[Share]:
        """What ``user`` has shared with others, optionally under a scheme or URI prefix."""
        params = _uri_filter(scheme, uri)
        async with self._core.request(
            "GET",
            self._user_url(user) / "permissions" / "shared",
            params=params,
            auth=await self._auth(),
        ) as response:
            payload = await response.json()
        return [Share(item["user"], _permission_from_api(item)) for item in payload]

    async def get_subroles(self, user: str) -> Sequence[str]:
        """The roles named below ``user``, e.g. ``alice/team`` for ``alice``."""
        async with self._core.request(
            "GET", self._user_url(user) / "subroles", auth=await self._auth()
        ) as response:
            payload = await response.json()
        return list(payload["subroles"])

    async def share(self, user: str, permission: Permission) -> None:
        """Give ``user`` the permission; needs ``manage`` on its URI."""
        async with self._core.request(
            "POST",
            self._user_url(user) / "permissions",
            json=[_permission_to_api(permission)],
            auth=await self._auth(),
        ) as response:
            _expect(response.status, _CREATED)

    async def revoke(self, user: str, uri: URL) -> None:
        """Take back every permission ``user`` was given on exactly ``uri``."""
        async with self._core.request(
            "DELETE",
            self._user_url(user) / "permissions",
            params={"uri": str(uri)},
            auth=await self._auth(),
        ) as response:
            _expect(response.status, _NO_CONTENT)

    async def add(self, role_name: str) -> None:
        """Create a role; users may create roles below their own name (``alice/team``)."""
        async with self._core.request(
            "POST",
            self._config.api_url / "users",
            json={"name": role_name},
            auth=await self._auth(),
        ) as response:
            _expect(response.status, _CREATED)

    async def remove(self, role_name: str) -> None:
        """Remove a role, its subroles and everything shared with them."""
        async with self._core.request(
            "DELETE", self._user_url(role_name), auth=await self._auth()
        ) as response:
            _expect(response.status, _NO_CONTENT)

    async def _auth(self) -> str:
        return await self._config._api_auth()

    def _user_url(self, name: str) -> URL:
        if ":" in name:
            raise ValueError(f"Invalid name: {name!r}")
        return self._config.api_url / "users" / name.replace("/", ":")


def _uri_filter(scheme: str | None, uri: URL | None) -> Mapping[str, str]:
    if scheme:
        if uri is not None:
            raise ValueError("Conflicting arguments 'uri' and 'scheme'")
        uri = URL.build(scheme=scheme)  # "storage:" is the whole scheme
    return {"uri": str(uri)} if uri is not None else {}


def _permission_from_api(item: Mapping[str, Any]) -> Permission:
    return Permission(URL(item["uri"]), Action(item["action"]))


def _permission_to_api(permission: Permission) -> dict[str, str]:
    return {"uri": str(permission.uri), "action": Action(permission.action).value}


def _expect(status: int, expected: int) -> None:
    # Clients of the original platform insist on the exact success status (docs/protocol.md §7).
    if status != expected:
        raise ClientError(f"Server returned an unexpected status {status}, expected {expected}")
