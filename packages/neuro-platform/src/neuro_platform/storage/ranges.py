"""Which bytes of a file an OPEN answers, from the request's `Range` (RFC 9110 §14)."""

from __future__ import annotations

from dataclasses import dataclass


class RangeNotSatisfiableError(Exception):
    """Answered with 416 and `Content-Range: bytes */<size>`."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # exclusive
    partial: bool


def resolve_range(requested: slice | None, size: int) -> Span:
    """`requested` is aiohttp's parsed Range (`None` without the header).

    `bytes=a-` reads from a to the end, `bytes=a-b` is clamped to the file, `bytes=-n` is the
    last n bytes; a start at or past the end of the file cannot be satisfied.
    """
    if requested is None:
        return Span(0, size, partial=False)
    start = 0 if requested.start is None else requested.start
    if start < 0:
        start = max(size + start, 0)
    end = size if requested.stop is None else min(requested.stop, size)
    if start >= size or start >= end:
        raise RangeNotSatisfiableError(f"range {start}-{end} of {size} bytes")
    return Span(start, end, partial=True)
