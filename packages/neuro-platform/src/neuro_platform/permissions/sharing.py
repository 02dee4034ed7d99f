"""Sharing and roles (docs/protocol.md §7): who may give which permission to whom.

* Sharing a URI needs `manage` on it; so does revoking, except that anyone may give up a
  permission they hold. Only `read`, `write` and `manage` can be shared.
* Users and roles share one namespace. A user may create roles below their own name
  (`alice/team`), since they own `role://alice/...`; any other role needs `manage` on it.
* Sharing `role://<role>` makes the receiver a member of that role: it gets the role's
  grants, transitively. Revoking it ends the membership.
* Nothing is cached: every check reads the database, so a revoke counts from the next request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ..errors import NotFoundError
from .actions import Action
from .repository import PermissionRepository
from .rules import Grant
from .service import Permission, PermissionService
from .uris import ResourceUri

log = logging.getLogger(__name__)

ROLE_SCHEME = "role"
SHAREABLE_ACTIONS = (Action.READ, Action.WRITE, Action.MANAGE)
# Each part of a role name is a user-name-like label; `alice/team` has two.
_ROLE_PART_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MAX_ROLE_NAME_LENGTH = 253


class UnknownPrincipalError(NotFoundError):
    """No user or role of that name: the API answers 404."""


class NothingToRevokeError(NotFoundError):
    """The receiver holds no such permission: the API answers 404."""


@dataclass(frozen=True)
class Share:
    """A permission someone holds on a resource of the user who shared it."""

    user: str
    permission: Permission

    def to_json(self) -> dict[str, str]:
        return {"user": self.user, **self.permission.to_json()}


def validate_role_name(name: str) -> None:
    parts = name.split("/")
    if len(name) > MAX_ROLE_NAME_LENGTH or not all(_ROLE_PART_RE.fullmatch(p) for p in parts):
        raise ValueError(
            f"invalid role name {name!r}: use '/'-separated parts of lowercase letters, "
            "digits and inner dashes"
        )


def role_uri(name: str) -> ResourceUri:
    return ResourceUri(ROLE_SCHEME, tuple(name.split("/")))


def shareable(permission: Permission) -> Permission:
    if permission.action not in SHAREABLE_ACTIONS:
        allowed = ", ".join(SHAREABLE_ACTIONS)
        raise ValueError(f"cannot share {permission.action!r}: the action must be one of {allowed}")
    if not permission.uri.parts:
        raise ValueError(f"cannot share a whole scheme ({permission.uri})")
    return permission


class SharingService:
    def __init__(
        self,
        permissions: PermissionService,
        repository: PermissionRepository,
        after_revoke: Sequence[Callable[[], Awaitable[object]]] = (),
    ) -> None:
        self._permissions = permissions
        self._repository = repository
        # Awaited after each revoke, role removal or share (which may lower a grant), before
        # it is answered: what other slices handed out on a permission (bucket credentials)
        # ends with it.
        self._after_revoke = tuple(after_revoke)

    async def permissions_of(self, name: str, within: ResourceUri | None) -> list[Permission]:
        """What `name` holds, one entry per URI: owned trees, own grants and roles' grants.

        Only shareable actions appear (`deny` and implied `list` are not permissions a
        client can hold or show).
        """
        roles = await self._repository.roles_of(name)
        best: dict[ResourceUri, Action] = {
            root: Action.MANAGE for root in self._permissions.owned_roots(name)
        }
        for role in sorted(roles):
            for grant in await self._repository.grants_held_by(role):
                held = best.get(grant.uri)
                if grant.action in SHAREABLE_ACTIONS and (
                    held is None or grant.action.rank > held.rank
                ):
                    best[grant.uri] = grant.action
        return [
            Permission(uri, action)
            for uri, action in sorted(best.items())
            if within is None or within.covers(uri) or uri.covers(within)
        ]

    async def shared_by(self, name: str, within: ResourceUri | None) -> list[Share]:
        """Grants others hold on what `name` owns (its resource trees and roles)."""
        roots = [
            root
            for root in self._permissions.owned_roots(name)
            if within is None or within.covers(root) or root.covers(within)
        ]
        held = await self._repository.grants_within(roots, except_holder=name)
        return [
            Share(h.holder, Permission(h.grant.uri, h.grant.action))
            for h in held
            if within is None or within.covers(h.grant.uri)
        ]

    async def subroles(self, name: str) -> list[str]:
        return await self._repository.subroles_of(name)

    async def share(
        self, caller: str, receiver: str, permissions: Sequence[Permission]
    ) -> list[Permission]:
        """Gives `receiver` the permissions, all or none of them."""
        permissions = [shareable(p) for p in permissions]
        await self._permissions.require(
            caller, [Permission(p.uri, Action.MANAGE) for p in permissions]
        )
        await self._require_principal(receiver)
        roles = []
        for permission in permissions:
            if permission.uri.scheme == ROLE_SCHEME:
                role = "/".join(permission.uri.parts)
                if await self._repository.is_role(role):
                    roles.append(role)
                else:
                    # Sharing a user's own role URI is allowed (it lets the receiver read
                    # that user's permissions); a mistyped role name is not.
                    await self._require_principal(role)
        await self._repository.share(receiver, [Grant(p.uri, p.action) for p in permissions], roles)
        await self._revoked()  # a share replaces the receiver's grant, maybe with a lesser one
        return permissions

    async def revoke(self, caller: str, receiver: str, uri: ResourceUri) -> None:
        if caller != receiver:  # giving up one's own permission needs no manage
            await self._permissions.require(caller, [Permission(uri, Action.MANAGE)])
        await self._require_principal(receiver)
        role = "/".join(uri.parts) if uri.scheme == ROLE_SCHEME and uri.parts else None
        if not await self._repository.unshare(receiver, uri, role):
            raise NothingToRevokeError(f"{receiver!r} holds no permission on {uri}")
        await self._revoked()

    async def add_role(self, caller: str, name: str) -> None:
        validate_role_name(name)
        await self._permissions.require(caller, [Permission(role_uri(name), Action.MANAGE)])
        await self._repository.add_role(name, created_by=caller)

    async def remove_role(self, caller: str, name: str) -> None:
        validate_role_name(name)
        # The permission first, so that strangers cannot probe which roles exist.
        await self._permissions.require(caller, [Permission(role_uri(name), Action.MANAGE)])
        if not await self._repository.is_role(name):
            raise UnknownPrincipalError(f"role {name!r} does not exist")
        await self._repository.remove_role(name)
        await self._revoked()

    async def _revoked(self) -> None:
        for follow_up in self._after_revoke:
            try:
                await follow_up()
            except Exception:  # the revoke stands; the follow-up's own sweep retries it
                log.exception("a follow-up of a revoke failed")

    async def _require_principal(self, name: str) -> None:
        if not (await self._repository.is_user(name) or await self._repository.is_role(name)):
            raise UnknownPrincipalError(f"no user or role named {name!r}")
