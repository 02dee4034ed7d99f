"""Which bytes of a file an OPEN answers, from the request's `Range` (RFC 9110 §14)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# File offsets are signed 64-bit (off_t): a WRITE must end below this, or pwrite overflows.
MAX_OFFSET = 2**63 - 1
# At most 19 digits: longer numbers are past MAX_OFFSET anyway, and int() of a huge digit
# string is slow.
_CONTENT_RANGE = re.compile(r"bytes (\d{1,19})-(\d{1,19})/(\d{1,19}|\*)")


class RangeNotSatisfiableError(Exception):
    """Answered with 416 and `Content-Range: bytes */<size>`."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # exclusive
    partial: bool


def parse_content_range(value: str) -> tuple[int, int] | None:
    """`(start, end)` (inclusive) of a WRITE's `Content-Range: bytes start-end/*`; None when
    malformed, backwards, or ending past what a file offset holds."""
    match = _CONTENT_RANGE.fullmatch(value)
    if match is None:
        return None
    start, end = int(match[1]), int(match[2])
    if end < start or end >= MAX_OFFSET:
        return None
    return start, end


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
