"""Trace headers every request carries (docs/protocol.md §1), so server logs can be correlated."""

import secrets
import time

from multidict import CIMultiDict


def new_trace_id() -> str:
    """32 hex characters whose upper 32 bits are the unix time, as the spec asks."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(12)}"


def new_span_id() -> str:
    return secrets.token_hex(8)


def trace_headers() -> CIMultiDict[str]:
    trace_id = new_trace_id()
    span_id = new_span_id()
    # An empty sampled flag lets the server decide whether to sample.
    return CIMultiDict({"b3": f"{trace_id}-{span_id}", "sentry-trace": f"{trace_id}-{span_id}-"})
