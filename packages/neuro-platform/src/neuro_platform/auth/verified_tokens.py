"""Tokens whose signature has been checked, remembered until they expire.

Every request carries the same token, and decoding and checking a JWT was a tenth of the
server's time per small-file request. A token that verified once stays valid until its `exp`
(the signing key never changes while the server runs), so the check is not repeated before
then. Whether its user still exists is a separate question, asked on every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt

from .tokens import InvalidTokenError, TokenCodec, VerifiedToken

MAX_REMEMBERED_TOKENS = 4096


class VerifiedTokens:
    def __init__(
        self,
        codec: TokenCodec,
        *,
        max_entries: int = MAX_REMEMBERED_TOKENS,
        clock: Callable[[], float] = time.time,  # JWT `exp` is wall-clock time
    ) -> None:
        self._codec = codec
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[VerifiedToken, float]] = {}

    def verify(self, token: str) -> VerifiedToken:
        """The token's claims; raises InvalidTokenError like `TokenCodec.verify_claims`."""
        remembered = self._entries.get(token)
        if remembered is not None:
            verified, expires_at = remembered
            if self._clock() < expires_at:
                return verified
            del self._entries[token]
            raise InvalidTokenError("Signature has expired")
        verified = self._codec.verify_claims(token)
        # The signature was just checked, so the claims can be read without checking again.
        claims = jwt.decode(token, options={"verify_signature": False})
        while len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest
        self._entries[token] = (verified, float(claims["exp"]))
        return verified
