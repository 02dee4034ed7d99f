"""How grants add up to the action a role holds on a URI (pure: no I/O).

* Owners implicitly manage their own tree: `<scheme>://<cluster>/[<org>/]<user>/...` for
  every configured cluster (and org), and `role://<user>/...`. This cannot be denied.
* A grant on a folder covers everything below it; among covering grants the highest wins.
* An explicit `deny` blocks the grants above it (shallower), not those below it, so a folder
  can be shared with one sub-folder held back and re-shared deeper down.
* Holding anything below a URI implies `list` on it, so listings can show the way down.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .actions import Action
from .uris import OWNED_RESOURCE_SCHEMES, ResourceUri, owned_uri, owner_parts


@dataclass(frozen=True)
class Grant:
    uri: ResourceUri
    action: Action


@dataclass(frozen=True)
class PermissionTree:
    path: str
    action: Action
    children: dict[str, PermissionTree] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "action": str(self.action),
            "children": {name: child.to_json() for name, child in self.children.items()},
        }


def owner_roots(
    user_name: str, clusters: Iterable[str], orgs: Iterable[str]
) -> tuple[ResourceUri, ...]:
    roots = [ResourceUri("role", owner_parts(user_name))]
    org_list: list[str | None] = [None, *orgs]
    for scheme in sorted(OWNED_RESOURCE_SCHEMES):
        for cluster in clusters:
            roots.extend(owned_uri(scheme, cluster, user_name, org) for org in org_list)
    return tuple(roots)


class GrantSet:
    """Everything one user holds: explicit grants (own and via roles) and owned trees."""

    def __init__(self, grants: Iterable[Grant], owned: Iterable[ResourceUri]) -> None:
        self._grants = tuple(grants)
        self._owned = tuple(owned)

    def action_on(self, uri: ResourceUri) -> Action | None:
        if self.owns(uri):
            return Action.MANAGE
        covering = [g for g in self._grants if g.uri.covers(uri)]
        deny_depth = max((g.uri.depth for g in covering if g.action is Action.DENY), default=-1)
        allowed = [
            g.action for g in covering if g.action is not Action.DENY and g.uri.depth > deny_depth
        ]
        if allowed:
            return max(allowed, key=lambda a: a.rank)
        if self._holds_something_below(uri):
            return Action.LIST
        return None

    def owns(self, uri: ResourceUri) -> bool:
        """Whether an owned tree covers `uri`, and so everything below it (manage)."""
        return any(root.covers(uri) for root in self._owned)

    def allows(self, uri: ResourceUri, required: Action) -> bool:
        action = self.action_on(uri)
        return action is not None and action.satisfies(required)

    def tree(self, prefix: ResourceUri) -> PermissionTree:
        below = sorted(
            {g.uri for g in self._grants if _strictly_below(g.uri, prefix)}
            | {root for root in self._owned if _strictly_below(root, prefix)}
        )
        return self._subtree(prefix, below)

    def _subtree(self, node: ResourceUri, below: list[ResourceUri]) -> PermissionTree:
        action = self.action_on(node) or Action.DENY
        children: dict[str, PermissionTree] = {}
        if action is not Action.MANAGE:  # nothing below can add to manage
            names = dict.fromkeys(uri.parts[node.depth] for uri in below)
            for name in names:
                child = node.child(name)
                children[name] = self._subtree(
                    child, [uri for uri in below if _strictly_below(uri, child)]
                )
        return PermissionTree(path=str(node), action=action, children=children)

    def _holds_something_below(self, uri: ResourceUri) -> bool:
        return any(_strictly_below(root, uri) for root in self._owned) or any(
            g.action is not Action.DENY and _strictly_below(g.uri, uri) for g in self._grants
        )


def _strictly_below(uri: ResourceUri, ancestor: ResourceUri) -> bool:
    return uri.depth > ancestor.depth and ancestor.covers(uri)
