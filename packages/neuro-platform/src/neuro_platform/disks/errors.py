"""Disk failures, raised by the service and the repository (docs/protocol.md §8.2)."""

from __future__ import annotations

from ..errors import ConflictError, NotFoundError, RefusedError


class DiskNotFoundError(NotFoundError):
    pass


class DiskOverLimitError(RefusedError):
    code = "over_limit"


class DiskNameTakenError(ConflictError):
    code = "unique_violation"
