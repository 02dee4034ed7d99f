"""The stored access token, its expiry, and the user name it carries."""

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import AuthError

# Refresh early: a token is considered stale after three quarters of its lifetime.
LIFETIME_SHARE = 0.75
USER_CLAIMS = ("identity", "https://platform.neuromation.io/user")


@dataclass(frozen=True)
class _AuthToken:
    token: str
    expiration_time: float
    refresh_token: str = ""

    @classmethod
    def create(cls, token: str, expires_in: float, refresh_token: str = "") -> "_AuthToken":
        return cls(token, time.time() + LIFETIME_SHARE * expires_in, refresh_token)

    @property
    def is_expired(self) -> bool:
        return time.time() >= self.expiration_time


def username_from_token(token: str) -> str:
    """The user name claim; the server verifies tokens, the SDK only reads them.

    Read by hand rather than with PyJWT: every CLI command needs the name, and importing
    PyJWT (with cryptography) took 20 ms of each start, for a decode without any check."""
    claims = _unverified_claims(token)
    for claim in USER_CLAIMS:
        name = claims.get(claim)
        if isinstance(name, str) and name:
            return name
    raise AuthError("The token carries no user name claim")


def _unverified_claims(token: str) -> Mapping[str, Any]:
    """A JWT's payload (RFC 7519: header.payload.signature, each base64url without padding),
    its signature unchecked."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AuthError("The token is not a valid JWT: it has no three dot-separated parts")
    payload = parts[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError) as exc:  # binascii.Error and JSON errors are ValueErrors
        message = f"The token is not a valid JWT: its payload is unreadable ({exc})"
        raise AuthError(message) from None
    if not isinstance(claims, dict):
        raise AuthError("The token is not a valid JWT: its payload is not a JSON object")
    return claims
