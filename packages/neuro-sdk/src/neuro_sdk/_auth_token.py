"""The stored access token, its expiry, and the user name it carries."""

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
    """The user name claim; the server verifies tokens, the SDK only reads them."""
    # PyJWT imports cryptography (tens of milliseconds): load it only to decode a token.
    import jwt

    try:
        claims: Mapping[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise AuthError(f"The token is not a valid JWT: {exc}") from exc
    for claim in USER_CLAIMS:
        name = claims.get(claim)
        if isinstance(name, str) and name:
            return name
    raise AuthError("The token carries no user name claim")
