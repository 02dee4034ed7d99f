"""``neuro --trace``: each HTTP request and reply the command makes, printed to stderr.

Tokens in headers are masked unless ``--no-hide-token`` is given, so that a trace can be
pasted into a bug report.
"""

import re
from types import SimpleNamespace

import aiohttp
import click

# What carries a token: "Bearer <token>" (Authorization) and "token=<token>" (cookies).
TOKEN_RE = re.compile(r"(?:Bearer |token=)(?P<token>[A-Za-z0-9._~+/=-]+)")
TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded")
VISIBLE_ENDS = 5  # characters shown at each end of a long token


def hide_tokens(value: str) -> str:
    return TOKEN_RE.sub(lambda m: m.group(0).replace(m["token"], _mask(m["token"])), value)


def _mask(token: str) -> str:
    # At least two thirds of the token stay hidden.
    if len(token) // 3 <= VISIBLE_ENDS:
        return f"<hidden {len(token)} chars>"
    hidden = f"<hidden {len(token) - 2 * VISIBLE_ENDS} chars>"
    return token[:VISIBLE_ENDS] + hidden + token[-VISIBLE_ENDS:]


def _print(prefix: str, lines: list[str]) -> None:
    for line in lines:
        click.echo(f"{prefix} {line}".rstrip(), err=True)


def _body_lines(chunk: bytes, printable: bool) -> list[str]:
    if not chunk:
        return []
    if printable:
        return chunk.decode(errors="replace").split("\n")
    return [f"[binary {len(chunk)} bytes]"]


def trace_config(*, hide_token: bool) -> aiohttp.TraceConfig:
    def header(value: str) -> str:
        return hide_tokens(value) if hide_token else value

    async def request_start(
        session: aiohttp.ClientSession, ctx: SimpleNamespace, data: aiohttp.TraceRequestStartParams
    ) -> None:
        path = data.url.raw_path_qs
        lines = [f"{data.method} {path} HTTP/1.1"]
        lines += [f"{key}: {header(value)}" for key, value in data.headers.items()]
        _print(">", [*lines, ""])
        ctx.request_text = data.headers.get("Content-Type", "").startswith(TEXT_TYPES)

    async def request_chunk(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        data: aiohttp.TraceRequestChunkSentParams,
    ) -> None:
        _print(">", _body_lines(data.chunk, getattr(ctx, "request_text", False)))

    async def request_end(
        session: aiohttp.ClientSession, ctx: SimpleNamespace, data: aiohttp.TraceRequestEndParams
    ) -> None:
        response = data.response
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        lines += [f"{key}: {header(value)}" for key, value in response.headers.items()]
        _print("<", lines)
        ctx.response_text = response.headers.get("Content-Type", "").startswith(TEXT_TYPES)

    async def response_chunk(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        data: aiohttp.TraceResponseChunkReceivedParams,
    ) -> None:
        _print("<", _body_lines(data.chunk, getattr(ctx, "response_text", False)))

    config = aiohttp.TraceConfig()
    config.on_request_start.append(request_start)
    config.on_request_chunk_sent.append(request_chunk)
    config.on_request_end.append(request_end)
    config.on_response_chunk_received.append(response_chunk)
    return config
