"""Who calls `/v2/`: HTTP Basic with a platform JWT as the password (docs/protocol.md §6).

The user name is the platform user's name, or the literal `token` that aiodocker and the
original SDK send. A Bearer token is accepted too (the platform's other APIs use it).
"""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from ..auth.identity import Authenticator, NotAuthenticatedError

TOKEN_USER_NAME = "token"


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticatedError("malformed Basic credentials") from None
    user, colon, password = decoded.partition(":")
    if not colon:
        raise NotAuthenticatedError("malformed Basic credentials")
    return user, password


async def registry_user(request: web.Request, authenticator: Authenticator) -> str:
    """The authenticated user's name, or NotAuthenticatedError."""
    header = request.headers.get("Authorization", "")
    credentials = _basic_credentials(header)
    if credentials is None:
        return await authenticator.required_user(request)
    user, token = credentials
    if not token:
        raise NotAuthenticatedError("no token given as the password")
    name = await authenticator.user_of(token)
    # A name other than `token` must be the token's own: one user's token under another
    # user's name is a mistake (or a probe) that must not half-work.
    if user not in (TOKEN_USER_NAME, name):
        raise NotAuthenticatedError("the user name does not match the token")
    return name
