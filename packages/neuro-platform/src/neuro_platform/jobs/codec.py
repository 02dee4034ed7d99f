"""Jobs to and from the JSON kept in the database (the `spec` and `statuses` columns).

The spec is encoded from its dataclass fields by pydantic, one pair for every field: a new
field of `JobSpec` (with a default) is stored and read back without a change here.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from .entities import JobSpec, StatusItem

_SPEC = TypeAdapter(JobSpec)
_STATUSES = TypeAdapter(tuple[StatusItem, ...])


def encode_spec(spec: JobSpec) -> dict[str, Any]:
    encoded: dict[str, Any] = _SPEC.dump_python(spec, mode="json")
    return encoded


def decode_spec_json(text: str | bytes) -> JobSpec:
    """The spec's document as stored: parsed and validated in one step, without the dicts
    in between (a third of the time)."""
    return _SPEC.validate_json(text)


def encode_status(item: StatusItem) -> dict[str, Any]:
    return {
        "status": str(item.status),
        "transition_time": item.transition_time.isoformat(),
        "reason": item.reason,
        "description": item.description,
        "exit_code": item.exit_code,
    }


def decode_statuses_json(text: str | bytes) -> tuple[StatusItem, ...]:
    """The `statuses` column as stored, parsed and validated in one step like the spec (its
    times come back aware, in UTC)."""
    return _STATUSES.validate_json(text)
