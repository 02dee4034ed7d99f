"""Monitoring failures the HTTP layer answers in a shape of their own (docs/protocol.md §4.2)."""

from __future__ import annotations


class PortUnreachableError(ValueError):
    """Nothing accepts connections on the job's port: 400 `{"msg": ..., "error": ...}`."""

    def __init__(self, port: int, cause: BaseException) -> None:
        self.summary = f"Cannot connect to port {port}"
        super().__init__(f"{self.summary}: {cause}")
