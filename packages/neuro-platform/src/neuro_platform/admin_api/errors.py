"""Admin API failures."""

from __future__ import annotations

from ..errors import ConflictError, NotFoundError, RefusedError


class AdminForbiddenError(RefusedError):
    """The caller's role does not allow it (403 `{"error"}`)."""


class AdminNotFoundError(NotFoundError):
    pass


class AdminExistsError(ConflictError):
    pass
