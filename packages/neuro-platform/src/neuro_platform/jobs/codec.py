"""Jobs to and from the JSON kept in the database (the `spec` and `statuses` columns).

The spec is encoded from its dataclass fields by pydantic, one pair for every field: a new
field of `JobSpec` (with a default) is stored and read back without a change here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from .entities import JobSpec, JobStatus, StatusItem

_SPEC = TypeAdapter(JobSpec)


def encode_spec(spec: JobSpec) -> dict[str, Any]:
    encoded: dict[str, Any] = _SPEC.dump_python(spec, mode="json")
    return encoded


def decode_spec(data: dict[str, Any]) -> JobSpec:
    return _SPEC.validate_python(data)


def encode_status(item: StatusItem) -> dict[str, Any]:
    return {
        "status": str(item.status),
        "transition_time": item.transition_time.isoformat(),
        "reason": item.reason,
        "description": item.description,
        "exit_code": item.exit_code,
    }


def decode_status(data: dict[str, Any]) -> StatusItem:
    return StatusItem(
        status=JobStatus(data["status"]),
        transition_time=datetime.fromisoformat(data["transition_time"]),
        reason=data.get("reason"),
        description=data.get("description"),
        exit_code=data.get("exit_code"),
    )
