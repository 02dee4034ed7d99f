"""Resource URIs as users type them for sharing, made full against the current config.

* ``storage:folder`` (or ``storage:~/folder``), ``job:id``, ``image:name``, ``secret:key``,
  ``disk:id``, ``blob:bucket``, ``flow:name``: relative to the user's own tree,
  ``<scheme>://<cluster>/[<org>/]<user>/...``;
* ``storage:/alice/folder``: absolute in the current cluster;
* ``<scheme>://...`` (``role://alice/team`` too) and a bare ``<scheme>:``: already full.
"""

# Annotations stay unevaluated: naming SDK classes in them must not import the SDK modules
# (and the HTTP stack) at start-up.
from __future__ import annotations

import posixpath

from yarl import URL

import neuro_sdk

OWNED_SCHEMES = ("storage", "job", "image", "secret", "disk", "blob", "flow")
SHARE_SCHEMES = (*OWNED_SCHEMES, "role")


def resolve_resource_uri(text: str, config: neuro_sdk.Config) -> URL:
    """The full URI of a resource to share, list or revoke."""
    scheme, colon, rest = text.partition(":")
    if not colon or scheme not in SHARE_SCHEMES:
        raise ValueError(
            f"Invalid resource URI {text!r}: it must start with one of "
            f"{', '.join(f'{s}:' for s in SHARE_SCHEMES)}"
        )
    if rest.startswith("//") or not rest:
        return URL(text)
    if scheme == "role":
        raise ValueError(f"Invalid role URI {text!r}: write it as role://<role name>")
    if scheme == "image" and ":" in rest:
        raise ValueError(f"Invalid image URI {text!r}: a tag cannot be shared on its own")
    if rest.startswith("/"):
        path = rest
    else:
        if rest == "~" or rest.startswith("~/"):
            rest = rest[1:]
        owner = f"{config.org_name}/{config.username}" if config.org_name else config.username
        path = f"/{owner}/{rest}"
    # Resolved here so that what is shared is exactly what the user sees, never above the
    # cluster root.
    clean = posixpath.normpath("/" + path.lstrip("/"))
    return URL.build(scheme=scheme, host=config.cluster_name, path=clean)
