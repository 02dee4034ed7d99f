"""The one HTTP core every sub-API uses: one aiohttp session, trace headers, and the
mapping of error statuses to exceptions (docs/protocol.md §9) in a single place."""

# The documented API takes aiohttp timeouts as arguments.
# ruff: noqa: ASYNC109

import errno
import sys
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from json import JSONDecoder
from json import loads as json_loads
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from ._errors import (
    AuthenticationError,
    AuthorizationError,
    ClientError,
    IllegalArgumentError,
    NDJSONError,
    ResourceNotFound,
    ServerNotAvailable,
)
from ._tracing import trace_headers
from ._version import __version__

USER_AGENT = f"NeuroCLI/{__version__} ({sys.platform})"
# A single JSON line (a job list entry, a big directory) can exceed aiohttp's default buffer.
READ_BUFFER_SIZE = 4 * 2**20
NDJSON_MIME = "application/x-ndjson"

_STATUS_ERRORS: Mapping[int, type[Exception]] = {
    400: IllegalArgumentError,
    401: AuthenticationError,
    403: AuthorizationError,
    404: ResourceNotFound,
    405: ClientError,
    502: ServerNotAvailable,
}

Params = Mapping[str, Any] | list[tuple[str, Any]] | None


async def _ndjson_lines(content: aiohttp.StreamReader) -> AsyncIterator[list[bytes]]:
    """The lines of an NDJSON body, as many at a time as each chunk read completes: reading
    it line by line cost more than parsing the lines (10,000 jobs of `neuro ps -a`). A line
    longer than READ_BUFFER_SIZE is an error, as it was when lines were read one by one."""
    pending: list[bytes] = []  # the start of a line that no chunk has ended yet
    pending_size = 0
    async for chunk in content.iter_any():
        if b"\n" not in chunk:
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size > READ_BUFFER_SIZE:
                raise NDJSONError(f"A line of the answer is longer than {READ_BUFFER_SIZE} bytes")
            continue
        lines = chunk.split(b"\n")
        if pending:
            lines[0] = b"".join([*pending, lines[0]])
        last = lines.pop()
        pending, pending_size = ([last], len(last)) if last else ([], 0)
        if len(lines[0]) > READ_BUFFER_SIZE:
            raise NDJSONError(f"A line of the answer is longer than {READ_BUFFER_SIZE} bytes")
        yield lines
    if pending:
        yield [b"".join(pending)]


async def ndjson_batches(content: aiohttp.StreamReader) -> AsyncIterator[Iterator[Any]]:
    """The values of an NDJSON body, those of each chunk read at a time (``_ndjson_lines``):
    every NDJSON answer of the SDK is read by this one rule."""
    async for lines in _ndjson_lines(content):
        yield _ndjson_values(lines)


_raw_decode = JSONDecoder().raw_decode
_JSON_WHITESPACE = " \t\n\r"  # what json.loads allows around a value (RFC 8259)


def _ndjson_values(lines: list[bytes]) -> Iterator[Any]:
    """Each line's value, as ``json.loads(line)`` gives it; blank lines are skipped. A bad
    line raises what ``json.loads`` raises, after the values of the lines before it.

    ``raw_decode`` of the decoded line costs a third of ``json.loads`` of the bytes (which
    detects the encoding and matches whitespace with regular expressions): 2 µs a line of
    a storage listing instead of 6. Anything it does not take as is (leading whitespace,
    trailing data, a BOM, bad UTF-8, a blank line) goes to ``json.loads`` itself."""
    for raw in lines:
        try:
            line = raw.decode()
            value, end = _raw_decode(line)
            whole = end == len(line) or not line[end:].strip(_JSON_WHITESPACE)
        except ValueError:
            whole = False
        if whole:
            yield value
        elif raw.strip():
            yield json_loads(raw)


def _errno_from(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        code = getattr(errno, value, None)
        return code if isinstance(code, int) else None
    return None


def error_from_response(status: int, body: str) -> Exception:
    """The exception an error answer stands for (docs/protocol.md §9)."""
    message = body
    payload: object = None
    with suppress(ValueError):
        payload = json_loads(body)
    if isinstance(payload, dict) and "error" in payload:
        message = str(payload["error"])
        if status == 400 and "errno" in payload:
            code = _errno_from(payload["errno"])
            if code is not None:
                # OSError's constructor picks FileNotFoundError, FileExistsError, ...
                return OSError(code, message)
    error_class = _STATUS_ERRORS.get(status, IllegalArgumentError)
    return error_class(message)


def new_session(
    timeout: aiohttp.ClientTimeout, trace_configs: Sequence[aiohttp.TraceConfig] | None = None
) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        timeout=timeout,
        trace_configs=list(trace_configs) if trace_configs else None,
        headers={"User-Agent": USER_AGENT},
        read_bufsize=READ_BUFFER_SIZE,
    )


class _Core:
    """Sends requests through the client's session; knows nothing about tokens."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        trace_id: str | None = None,
        trace_sampled: bool | None = None,
    ) -> None:
        self._session = session
        # A caller's trace (Factory(trace_id=...)) spans all requests; else one per request.
        self._trace_id = trace_id
        self._trace_sampled = trace_sampled

    @property
    def session(self) -> aiohttp.ClientSession:
        return self._session

    @asynccontextmanager
    async def request(
        self,
        method: str,
        url: URL,
        *,
        auth: str | None = None,
        params: Params = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
        check: bool = True,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send a request; with ``check`` an error status raises the mapped exception.

        ``auth`` is the whole ``Authorization`` header value (Bearer or Basic).
        """
        all_headers: CIMultiDict[str] = CIMultiDict(headers or {})
        all_headers.update(trace_headers(self._trace_id, self._trace_sampled))
        if auth is not None:
            all_headers["Authorization"] = auth
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = timeout
        async with self._session.request(
            method, url, params=params, json=json, data=data, headers=all_headers, **extra
        ) as response:
            if check and response.status >= 400:
                raise error_from_response(response.status, await response.text())
            yield response

    async def stream_json(
        self,
        method: str,
        url: URL,
        *,
        auth: str | None = None,
        params: Params = None,
        json: Any = None,
        list_key: str | None = None,
    ) -> AsyncIterator[Any]:
        """Yield the objects of an NDJSON answer, or of a plain JSON answer as a fallback.

        A plain answer is either a list or an object holding the list under ``list_key``.
        """
        async with self.request(
            method, url, auth=auth, params=params, json=json, headers={"Accept": NDJSON_MIME}
        ) as response:
            if response.content_type.startswith(NDJSON_MIME):
                async for items in ndjson_batches(response.content):
                    for item in items:
                        if isinstance(item, dict) and "error" in item:
                            raise NDJSONError(str(item["error"]))
                        yield item
                return
            payload = await response.json()
            items = payload[list_key] if list_key is not None else payload
            for item in items:
                yield item
