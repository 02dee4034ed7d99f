"""The query strings of the monitoring routes, for `/api/v1/openapi.json`.

The handlers parse these values themselves (each refusal is a `ValueError`, so a 400); the
models publish the names and types.
"""

from __future__ import annotations

from pydantic import BaseModel


class LogQuery(BaseModel):
    since: str | None = None
    timestamps: str | None = None
    separator: str | None = None


class SignalQuery(BaseModel):
    signal: str | None = None


class StreamQuery(BaseModel):
    cmd: str | None = None
    tty: str | None = None
    stdin: str | None = None
    stdout: str | None = None
    stderr: str | None = None
