"""The HTTP core: status → exception mapping (docs/protocol.md §9), trace headers, NDJSON streams.

A tiny aiohttp server stands in for "any platform service" here; it only answers
fixed statuses and bodies, so nothing of our real server is being imitated.
"""

import importlib.metadata
import json
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from neuro_sdk import (
    AuthenticationError,
    AuthorizationError,
    ClientError,
    IllegalArgumentError,
    NDJSONError,
    ResourceNotFound,
    ServerNotAvailable,
)
from neuro_sdk._core import READ_BUFFER_SIZE, USER_AGENT, _Core, new_session
from neuro_sdk._version import __version__


async def answer(request: web.Request) -> web.Response:
    """Answer with the status and body the query asks for, echoing the request headers."""
    status = int(request.query["status"])
    body = request.query.get("body", "")
    return web.Response(status=status, text=body, headers={"X-Seen-B3": request.headers["b3"]})


async def ndjson(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    for line in request.query.getall("line"):
        await response.write(line.encode() + b"\n")
    await response.write_eof()
    return response


async def ndjson_in_pieces(request: web.Request) -> web.StreamResponse:
    """Lines cut anywhere: across writes, several in one write, a last line without its
    newline, and (`?long=N`) a line of N bytes."""
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    body = b"".join(json.dumps({"n": n, "pad": "x" * n}).encode() + b"\n" for n in range(300))
    if "long" in request.query:
        body += b'{"pad": "' + b"y" * int(request.query["long"]) + b'"}\n'
    body += b'{"n": "last"}'
    for start in range(0, len(body), 997):  # a prime: cuts fall everywhere in a line
        await response.write(body[start : start + 997])
    await response.write_eof()
    return response


async def ndjson_body(request: web.Request) -> web.StreamResponse:
    """The body the query's ``hex`` spells, sent in ``piece``-byte writes (default 5)."""
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    body = bytes.fromhex(request.query["hex"])
    piece = int(request.query.get("piece", "5"))
    for start in range(0, len(body), piece):
        await response.write(body[start : start + piece])
    await response.write_eof()
    return response


async def plain_json(request: web.Request) -> web.Response:
    return web.json_response({"items": [{"n": 1}, {"n": 2}]})


async def echo_headers(request: web.Request) -> web.Response:
    return web.json_response(dict(request.headers))


@pytest.fixture
async def server() -> AsyncIterator[URL]:
    app = web.Application()
    app.router.add_get("/answer", answer)
    app.router.add_get("/ndjson", ndjson)
    app.router.add_get("/pieces", ndjson_in_pieces)
    app.router.add_get("/body", ndjson_body)
    app.router.add_get("/json", plain_json)
    app.router.add_get("/headers", echo_headers)
    async with TestServer(app, host="127.0.0.1") as test_server:
        yield test_server.make_url("/")


@pytest.fixture
async def core() -> AsyncIterator[_Core]:
    async with new_session(aiohttp.ClientTimeout(total=30)) as session:
        yield _Core(session)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, IllegalArgumentError),
        (401, AuthenticationError),
        (403, AuthorizationError),
        (404, ResourceNotFound),
        (405, ClientError),
        (409, IllegalArgumentError),
        (422, IllegalArgumentError),
        (500, IllegalArgumentError),
        (502, ServerNotAvailable),
        (503, IllegalArgumentError),
    ],
)
async def test_error_status_maps_to_documented_exception(
    core: _Core, server: URL, status: int, error_class: type[Exception]
) -> None:
    url = (server / "answer").with_query(status=status, body=json.dumps({"error": "it broke"}))
    with pytest.raises(error_class, match=r"^it broke$") as caught:
        async with core.request("GET", url):
            pass
    # 405 is a plain ClientError, not one of its auth subclasses.
    assert type(caught.value) is error_class


async def test_non_json_error_body_is_the_message(core: _Core, server: URL) -> None:
    url = (server / "answer").with_query(status=404, body="no such thing")
    with pytest.raises(ResourceNotFound, match=r"^no such thing$"):
        async with core.request("GET", url):
            pass


@pytest.mark.parametrize(
    ("errno_value", "error_class"),
    [("ENOENT", FileNotFoundError), ("EEXIST", FileExistsError), (21, IsADirectoryError)],
)
async def test_400_with_errno_becomes_os_error(
    core: _Core, server: URL, errno_value: object, error_class: type[OSError]
) -> None:
    body = json.dumps({"error": "storage says no", "errno": errno_value})
    url = (server / "answer").with_query(status=400, body=body)
    with pytest.raises(error_class, match="storage says no"):
        async with core.request("GET", url):
            pass


async def test_unchecked_request_leaves_the_status_to_the_caller(core: _Core, server: URL) -> None:
    url = (server / "answer").with_query(status=500, body="x")
    async with core.request("GET", url, check=False) as response:
        assert response.status == 500


async def test_requests_carry_user_agent_and_trace_headers(core: _Core, server: URL) -> None:
    async with core.request("GET", server / "headers", auth="Bearer abc") as response:
        headers = await response.json()
    assert headers["User-Agent"] == USER_AGENT
    assert __version__ in USER_AGENT
    assert headers["Authorization"] == "Bearer abc"
    trace_id, span_id = headers["b3"].split("-")
    assert re.fullmatch("[0-9a-f]{32}", trace_id)
    assert re.fullmatch("[0-9a-f]{16}", span_id)
    assert headers["sentry-trace"] == f"{trace_id}-{span_id}-"


async def test_ndjson_stream_yields_objects_and_raises_in_band_errors(
    core: _Core, server: URL
) -> None:
    url = (server / "ndjson").with_query([("line", '{"n": 1}'), ("line", '{"n": 2}')])
    assert [item async for item in core.stream_json("GET", url)] == [{"n": 1}, {"n": 2}]

    lines = [("line", '{"n": 1}'), ("line", '{"error": "disk full"}')]
    failing = (server / "ndjson").with_query(lines)
    seen: list[object] = []

    async def consume() -> None:
        async for item in core.stream_json("GET", failing):
            seen.append(item)

    with pytest.raises(NDJSONError, match="disk full"):
        await consume()
    assert seen == [{"n": 1}]


async def test_ndjson_lines_cut_anywhere_come_back_whole(core: _Core, server: URL) -> None:
    items = [item async for item in core.stream_json("GET", server / "pieces")]
    assert items == [{"n": n, "pad": "x" * n} for n in range(300)] + [{"n": "last"}]


async def test_an_endless_ndjson_line_is_an_error_not_unbounded_memory(
    core: _Core, server: URL
) -> None:
    url = (server / "pieces").with_query(long=str(READ_BUFFER_SIZE + 1))
    with pytest.raises(NDJSONError, match="longer than"):
        async for _ in core.stream_json("GET", url):
            pass


# Lines json.loads takes, each as it stands: what an NDJSON line may look like beyond the
# compact `{...}\r\n` our server writes (whitespace, a BOM, escapes, scalars).
ODD_LINES = [
    b'{"n": 1}\r',
    b"",
    b"  \t ",
    b'  {"leading": "spaces"}',
    b'{"trailing": "spaces"}  \t\r',
    b'\xef\xbb\xbf{"bom": true}',
    b'{"unicode": "\xc3\xbc\xe5\x90\x8d", "escaped": "\\u00fc\\n\\t\\"\\\\"}',
    b"42",
    b'"a string"',
    b"[1, [2, {}]]",
    b"null",
]


async def test_ndjson_values_are_what_json_loads_gives_each_line(core: _Core, server: URL) -> None:
    body = b"\n".join(ODD_LINES) + b"\n"
    for piece in (1, 3, 1000):  # every line split across chunks, some, none
        url = (server / "body").with_query(hex=body.hex(), piece=str(piece))
        items = [item async for item in core.stream_json("GET", url)]
        assert items == [json.loads(line) for line in ODD_LINES if line.strip()]


@pytest.mark.parametrize(
    "bad",
    [
        b'{"n": 2',  # cut short
        b'{"n": 2} {"n": 3}',  # two values on one line
        b'{"n": 2}x',  # trailing data
        b"\xc3{}",  # not UTF-8
        b"\xff\xfe{}",  # a UTF-16 BOM, then not UTF-16
        b"\x1c{}",  # whitespace to str.isspace, not to JSON
        b"[1, 2",  # with the next line, `[1, 2, 3], 4` would be two valid values
    ],
)
async def test_a_bad_line_raises_what_json_loads_raises_after_the_values_before_it(
    core: _Core, server: URL, bad: bytes
) -> None:
    body = b'{"n": 1}\n' + bad + b"\n3], 4\n"
    url = (server / "body").with_query(hex=body.hex())
    try:
        json.loads(bad)
    except ValueError as error:
        expected = error
    seen: list[object] = []

    async def consume() -> None:
        async for item in core.stream_json("GET", url):
            seen.append(item)

    with pytest.raises(type(expected), match=f"^{re.escape(str(expected))}$"):
        await consume()
    assert seen == [{"n": 1}]


async def test_stream_falls_back_to_plain_json(core: _Core, server: URL) -> None:
    items = [item async for item in core.stream_json("GET", server / "json", list_key="items")]
    assert items == [{"n": 1}, {"n": 2}]


def test_the_installed_package_has_the_version_the_sdk_reports() -> None:
    # The package's metadata takes its version from neuro_sdk/_version.py (hatch).
    assert importlib.metadata.version("neuro-sdk") == __version__
