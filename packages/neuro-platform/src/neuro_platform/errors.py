"""The kinds of failure services raise, whatever the slice; `api/errors.py` answers each with
its status (docs/protocol.md §9). Nothing here knows HTTP: services, repositories and
adapters import it.

Bad input is a `ValueError` (400) and a missing permission `permissions.PermissionDeniedError`
(403); the classes below name the other answers a client can act on.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    # When set, the answer takes the original services' `{"code", "description"}` shape
    # instead of `{"error"}` (docs/protocol.md §9): disks and service accounts answer so.
    code: ClassVar[str | None] = None


class NotFoundError(DomainError, LookupError):
    """The addressed thing does not exist (or the caller may not learn that it does): 404."""


class ConflictError(DomainError):
    """What exists already stands in the way (a name taken): 409."""


class RefusedError(DomainError):
    """A limit forbids it whoever asks, so no permission would help: 403."""


class UnprocessableError(DomainError):
    """Well-formed, but this server does not do it as configured (a disabled service): 422."""


class UnavailableError(DomainError):
    """An engine the request needs is not running here (not installed, did not start): 503,
    with `Retry-After`; the request did nothing."""
