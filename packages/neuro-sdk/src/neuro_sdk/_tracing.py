"""Trace headers every request carries (docs/protocol.md §1), so server logs can be correlated."""

import secrets
import time

from multidict import CIMultiDict


def gen_trace_id() -> str:
    """32 hex characters whose upper 32 bits are the unix time, as the spec asks."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(12)}"


new_trace_id = gen_trace_id


def new_span_id() -> str:
    return secrets.token_hex(8)


def trace_headers(trace_id: str | None = None, sampled: bool | None = None) -> CIMultiDict[str]:
    """Headers of one request: a new span of ``trace_id`` (a new trace when None)."""
    trace_id = trace_id or gen_trace_id()
    span_id = new_span_id()
    # An empty sampled flag lets the server decide whether to sample.
    flag = "" if sampled is None else str(int(sampled))
    b3 = f"{trace_id}-{span_id}" + (f"-{flag}" if flag else "")
    return CIMultiDict({"b3": b3, "sentry-trace": f"{trace_id}-{span_id}-{flag}"})
