"""The permission service every platform slice asks before touching a resource."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .actions import Action
from .cache import PrincipalCache
from .repository import PermissionRepository
from .rules import GrantSet, PermissionTree, owner_roots
from .uris import ResourceUri, parse_uri


@dataclass(frozen=True)
class Permission:
    uri: ResourceUri
    action: Action

    @classmethod
    def of(cls, uri: str, action: str | Action) -> Permission:
        return cls(parse_uri(uri), Action(action))

    def to_json(self) -> dict[str, str]:
        return {"uri": str(self.uri), "action": str(self.action)}


class PermissionDeniedError(Exception):
    """The error middleware answers 403 `{"missing": [...]}` for this, with `"error":
    message` too when one is given (a sentence a CLI shows)."""

    def __init__(self, missing: Sequence[Permission], message: str | None = None) -> None:
        super().__init__(", ".join(f"{p.action} on {p.uri}" for p in missing))
        self.missing = tuple(missing)
        self.message = message


class PermissionService:
    def __init__(
        self, repository: PermissionRepository, clusters: Iterable[str], orgs: Iterable[str]
    ) -> None:
        self._repository = repository
        self._clusters = tuple(clusters)
        self._orgs = tuple(orgs)
        # Asked before every request that touches a resource; see `cache.py` for why the
        # answers may be reused and for how long.
        self._grant_sets: PrincipalCache[tuple[str, frozenset[str]], GrantSet] = PrincipalCache()

    async def grant_set(self, user_name: str, schemes: Iterable[str]) -> GrantSet:
        key = (user_name, frozenset(schemes))
        return await self._grant_sets.get(key, lambda: self._load_grant_set(*key))

    async def _load_grant_set(self, user_name: str, schemes: frozenset[str]) -> GrantSet:
        roles = await self._repository.roles_of(user_name)
        grants = await self._repository.grants_of(roles, schemes)
        # Only the user's own trees are owned. A role's members get the role's grants, not
        # its trees: a member of `alice/team` must not manage `storage://c/alice/team` (a
        # folder in alice's home) nor `role://alice/team` (and so its membership).
        return GrantSet(grants, self.owned_roots(user_name))

    def owned_roots(self, user_name: str) -> tuple[ResourceUri, ...]:
        return owner_roots(user_name, self._clusters, self._orgs)

    async def check(self, user_name: str, permissions: Sequence[Permission]) -> list[Permission]:
        """Returns the permissions the user lacks (empty when everything is allowed)."""
        grant_set = await self.grant_set(user_name, {p.uri.scheme for p in permissions})
        return [p for p in permissions if not grant_set.allows(p.uri, p.action)]

    async def require(self, user_name: str, permissions: Sequence[Permission]) -> None:
        missing = await self.check(user_name, permissions)
        if missing:
            raise PermissionDeniedError(missing)

    async def tree(self, user_name: str, prefix: ResourceUri) -> PermissionTree:
        grant_set = await self.grant_set(user_name, {prefix.scheme})
        return grant_set.tree(prefix)

    async def grant(self, role_name: str, permission: Permission) -> None:
        await self._repository.put_grant(role_name, permission.uri, permission.action)

    async def revoke(self, role_name: str, uri: ResourceUri) -> bool:
        return await self._repository.delete_grant(role_name, uri)

    async def add_to_role(self, member_name: str, role_name: str) -> None:
        await self._repository.add_membership(member_name, role_name)

    async def remove_from_role(self, member_name: str, role_name: str) -> None:
        await self._repository.delete_membership(member_name, role_name)
