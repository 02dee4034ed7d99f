"""Throttling of failed password logins, so that passwords cannot be guessed at speed.

Failures are counted in a moving window (the `limits` library, in memory) per user name and
client address, and per client address alone with five times the allowance: one address
cannot try many passwords on one account, nor a few on many accounts. Once over, the login
form answers 429 without checking the password, until the window has room again. Only
failures count, so a user who types their password right is never held back by their own
earlier typos beyond the window. Counts live in the server process and start afresh when
it restarts.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse, storage, strategies

PER_ADDRESS_FACTOR = 5


class LoginThrottle:
    def __init__(self, failures: str) -> None:
        """`failures`: how many failed logins a user name and address may have, in the
        `limits` notation ("10 per 5 minutes")."""
        self._per_name = parse(failures)
        self._per_address = type(self._per_name)(
            self._per_name.amount * PER_ADDRESS_FACTOR, self._per_name.multiples
        )
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def retry_after_s(self, user_name: str, address: str) -> int | None:
        """None when a login may be tried now, else the seconds until it may."""
        waits = [
            self._limiter.get_window_stats(limit, *keys).reset_time - time.time()
            for limit, keys in self._counters(user_name, address)
            if not self._limiter.test(limit, *keys)
        ]
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, user_name: str, address: str) -> None:
        for limit, keys in self._counters(user_name, address):
            self._limiter.hit(limit, *keys)

    def _counters(
        self, user_name: str, address: str
    ) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        return [
            (self._per_name, ("login", user_name, address)),
            (self._per_address, ("login-address", address)),
        ]
