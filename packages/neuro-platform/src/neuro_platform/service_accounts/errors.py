"""Service account failures, raised by the service and the repository."""

from __future__ import annotations

from ..errors import ConflictError, NotFoundError


class ServiceAccountNotFoundError(NotFoundError):
    pass


class ServiceAccountExistsError(ConflictError):
    code = "unique_violation"
