"""Reading request input at the edge: JSON bodies and query strings through pydantic models.

Every handler that takes a body or a query reads it here, so one set of rules holds for all
of them: the body is refused before parsing when it nests deeper than `MAX_JSON_DEPTH` (a
recursive decoder would otherwise run out of stack), and what the model refuses raises
`pydantic.ValidationError`, which `api/errors.py` answers with 400 `{"error": ...}`.

The models' own bounds (see `BIG_INT`) keep every number small enough for the database,
`timedelta` and `os.pwrite`, so nothing after this edge can overflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, get_origin

from aiohttp import web
from pydantic import BaseModel, TypeAdapter

from .errors import BadRequestError

MAX_JSON_DEPTH = 64
# The largest integer any field takes: signed 64-bit, what PostgreSQL's BIGINT and a file
# offset hold. Fields with a smaller meaning have smaller bounds of their own.
BIG_INT = 2**63 - 1

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class JsonTooDeepError(BadRequestError):
    pass


def check_json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuses JSON text whose arrays and objects nest deeper than `limit`, without parsing.

    Brackets inside strings do not count; escapes inside strings are skipped. Malformed text
    is left for the parser to refuse.
    """
    # Nesting deeper than `limit` takes more than `limit` opening brackets. Most bodies have
    # a handful, and counting them runs in C; the walk below is a Python step per byte.
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return
    depth = 0
    in_string = False
    escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                raise JsonTooDeepError(f"The JSON body nests deeper than {limit} levels")
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1


async def read_json(request: web.Request, model: type[M]) -> M:
    """The request's JSON body as `model` (a JSON object)."""
    raw = await _raw_json(request)
    return model.model_validate_json(raw)


async def read_json_as(request: web.Request, adapter: TypeAdapter[T]) -> T:
    """The request's JSON body as any type pydantic knows (e.g. a list of models)."""
    raw = await _raw_json(request)
    return adapter.validate_json(raw)


async def _raw_json(request: web.Request) -> bytes:
    raw = await request.read()
    if not raw.strip():
        raise BadRequestError("A JSON body is required")
    check_json_depth(raw)
    return raw


def read_query(query: Mapping[str, str], model: type[M]) -> M:
    """The query string as `model`: list fields take every value of their key, others the
    first. Keys the model does not name are ignored, as they always were on the wire."""
    values: dict[str, Any] = {}
    getall = getattr(query, "getall", None)
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key not in query:
            continue
        is_list = get_origin(field.annotation) in (list, tuple) or field.annotation in (list,)
        values[key] = getall(key) if is_list and getall is not None else query[key]
    return model.model_validate(values)
