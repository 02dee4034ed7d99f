"""Resource URIs as permissions see them: a scheme plus path segments.

`storage://default/alice/data/` and `storage://default//alice/data` both normalise to
`storage://default/alice/data`; `storage:` alone is the root of the scheme. The first segment
is the cluster (or, for `role:`, the first part of the role name).

A user's own tree ("home") on a cluster is `[<org>/]<user>` (docs/protocol.md §5): `owned_uri`
builds every URI in it, so the rule is written once. Inside the server "no org" is `None`;
clients also write `""` or `"NO_ORG"`, which `org_from_wire` converts where requests come in.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from ..settings import NO_ORG

SCHEMES = frozenset(
    {"storage", "job", "image", "secret", "disk", "blob", "role", "cluster", "token", "flow"}
)
# Schemes whose paths are `<cluster>/[<org>/]<owner>/...`: the owner manages that subtree.
OWNED_RESOURCE_SCHEMES = frozenset({"storage", "job", "image", "secret", "disk", "blob", "flow"})


@dataclass(frozen=True, order=True)
class ResourceUri:
    scheme: str
    parts: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.scheme}://{'/'.join(self.parts)}" if self.parts else f"{self.scheme}:"

    @property
    def depth(self) -> int:
        return len(self.parts)

    def covers(self, other: ResourceUri) -> bool:
        """A grant on a folder covers everything below it."""
        return self.scheme == other.scheme and other.parts[: self.depth] == self.parts

    def child(self, name: str) -> ResourceUri:
        return ResourceUri(self.scheme, (*self.parts, name))


def parse_uri(text: str) -> ResourceUri:
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in SCHEMES:
        raise ValueError(f"unsupported resource URI {text!r}")
    if rest and not rest.startswith("//"):
        raise ValueError(f"resource URI {text!r} must look like {scheme}://<cluster>/<path>")
    parts = tuple(unquote(p) for p in rest[2:].split("/") if p)
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"resource URI {text!r} must not contain '.' or '..' segments")
    # A name never holds '/' or NUL: decoded from %2F or %00 they would let a URI that passes
    # the checks above name another path (`x%2F..%2F..`) once it is joined as a file path.
    if any("/" in p or "\0" in p for p in parts):
        raise ValueError(f"resource URI {text!r} must not encode '/' or NUL inside a name")
    return ResourceUri(scheme, parts)


def org_from_wire(value: str | None) -> str | None:
    """An org as a request spells it; "no org" (`null`, `""` or `"NO_ORG"`) becomes `None`."""
    return None if value in (None, "", NO_ORG) else value


def owner_parts(owner: str, org: str | None = None) -> tuple[str, ...]:
    """The path of `owner`'s own tree below a cluster's root: `[<org>/]<owner>`.

    Service accounts are named `alice/service-accounts/x`: their tree is that deep.
    """
    if org == "":
        # One spelling inside the server: a "" here is a request edge that forgot
        # `org_from_wire`, and would name `//alice` instead of `/alice`.
        raise ValueError("no org is None inside the server, not ''")
    return (*owner.split("/"),) if org is None else (org, *owner.split("/"))


def owned_uri(
    scheme: str, cluster: str, owner: str, org: str | None = None, *names: str
) -> ResourceUri:
    """`<scheme>://<cluster>/[<org>/]<owner>[/<names>...]`, e.g. a job's or a secret's URI."""
    return ResourceUri(scheme, (cluster, *owner_parts(owner, org), *names))
