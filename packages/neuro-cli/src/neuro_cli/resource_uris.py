"""Resource URIs as users type them for sharing, made full by the SDK's parser.

The rules are ``client.parse``'s (``storage:folder``, ``storage:~/folder``,
``storage:/alice/folder``, ``<scheme>://...``: see ``Parser.normalize_uri``); sharing adds
three of its own:

* a bare ``<scheme>:`` is the whole scheme (a prefix for ``acl ls``) and stays as it is;
* role URIs are always written in full, ``role://alice/team``;
* an image tag (``image:ubuntu:22.04``) cannot be shared on its own.
"""

# Annotations stay unevaluated: naming SDK classes in them must not import the SDK modules
# (and the HTTP stack) at start-up.
from __future__ import annotations

from collections.abc import Callable

from yarl import URL

import neuro_sdk

OWNED_SCHEMES = ("storage", "job", "image", "secret", "disk", "blob", "flow")
SHARE_SCHEMES = (*OWNED_SCHEMES, "role")


def resolve_resource_uri(text: str, parse: neuro_sdk.Parser) -> URL:
    """The full URI of a resource to share, list or revoke."""
    scheme, colon, rest = text.partition(":")
    if not colon or scheme not in SHARE_SCHEMES:
        raise ValueError(
            f"Invalid resource URI {text!r}: it must start with one of "
            f"{', '.join(f'{s}:' for s in SHARE_SCHEMES)}"
        )
    if not rest:
        return URL(text)
    short = not rest.startswith("//")
    if scheme == "role" and short:
        raise ValueError(f"Invalid role URI {text!r}: write it as role://<role name>")
    if scheme == "image" and short and ":" in rest:
        raise ValueError(f"Invalid image URI {text!r}: a tag cannot be shared on its own")
    return parse.str_to_uri(text, allowed_schemes=SHARE_SCHEMES)


def uri_formatter(parse: neuro_sdk.Parser, *, full: bool) -> Callable[[URL], str]:
    """How listings print a resource URI: short (``storage:folder``) when it lies in the
    current user's tree, as 22.x prints it, or always full with ``--full-uri``."""
    if full:
        return str

    def short(uri: URL) -> str:
        try:
            return str(parse.str_to_uri(str(uri), short=True))
        except ValueError:  # not one of ours to shorten: shown as it is
            return str(uri)

    return short
