"""HTTP handlers of the storage service (docs/protocol.md §5): parse the request, call the service,
shape the answer. The operation comes from `?op=<OP>` (or a bare `?<OP>` key), defaulting by
method: GET→OPEN, PUT→CREATE, PATCH→WRITE, POST→RENAME, DELETE→DELETE.
"""

from __future__ import annotations

import asyncio
import errno
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import formatdate
from typing import Annotated, Any

from aiohttp import hdrs, web
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from ..api.errors import BadRequestError
from ..api.keys import AUTHENTICATOR, PERMISSIONS
from ..api.openapi import Header, describe
from ..api.validation import read_json
from ..permissions.actions import Action
from .bundles import MAX_BUNDLE_BYTES, read_bundle, write_bundle
from .entries import FileInfo, FileType, RemovedEntry
from .errors import StorageError
from .filesystem import SMALL_FILE_SIZE
from .keys import STORAGE_CLUSTER, STORAGE_FILESYSTEM, STORAGE_QUOTA
from .paths import StoragePath
from .ranges import RangeNotSatisfiableError, parse_content_range, resolve_range
from .service import StorageService, VisibleFile
from .socket_body import take_socket_body

NDJSON = "application/x-ndjson"
NDJSON_FLUSH_BYTES = 64 * 1024
_CONDITIONAL_HEADERS = (
    hdrs.IF_MATCH,
    hdrs.IF_NONE_MATCH,
    hdrs.IF_RANGE,
    hdrs.IF_UNMODIFIED_SINCE,
)

_DEFAULT_OPERATIONS = {
    "GET": "OPEN",
    "HEAD": "OPEN",
    "PUT": "CREATE",
    "PATCH": "WRITE",
    "POST": "RENAME",
    "DELETE": "DELETE",
}
_OPERATIONS = {"OPEN", "LISTSTATUS", "GETFILESTATUS", "GETDISKUSAGE", "MKDIRS", "CREATE"} | {
    "WRITE",
    "RENAME",
    "DELETE",
    "CREATETAR",
    "OPENTAR",
}
TAR = "application/x-tar"

Handler = Callable[[web.Request, StorageService, str, StoragePath], Awaitable[web.StreamResponse]]


class StorageQuery(BaseModel):
    """The query of every storage URL (docs/protocol.md §5); `?<OP>` alone also names the
    operation."""

    op: str | None = Field(
        default=None, json_schema_extra={"enum": list[JsonValue](sorted(_OPERATIONS))}
    )
    recursive: Annotated[str, Field(max_length=16)] | None = None
    destination: Annotated[str, Field(max_length=4096)] | None = None


class OpenTarBody(BaseModel):
    model_config = ConfigDict(strict=True)

    names: Annotated[list[str], Field(max_length=100_000)]
    max_file_size: Annotated[int, Field(ge=0, le=2**62)] = SMALL_FILE_SIZE


@describe(
    "A storage operation on a path (?op=OPEN, LISTSTATUS, CREATE, WRITE, ...)",
    query=StorageQuery,
    headers=(
        Header("Range", {"type": "string"}, "OPEN: bytes=<start>-[<end>]"),
        Header("Content-Range", {"type": "string"}, "WRITE: bytes <start>-<end>/*"),
    ),
    body={"type": "string", "format": "binary"},
    media_type="application/octet-stream",
)
async def handle(request: web.Request) -> web.StreamResponse:
    """The single entry point of every storage URL."""
    operation = _operation(request)
    handler = _HANDLERS.get((request.method, operation))
    if handler is None:
        raise BadRequestError(f"Operation {operation} is not supported for {request.method}")
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    path = StoragePath.parse(request.match_info.get("path", ""))
    service = StorageService(
        request.app[STORAGE_CLUSTER],
        request.app[STORAGE_FILESYSTEM],
        request.config_dict[PERMISSIONS],
        request.app.get(STORAGE_QUOTA),
    )
    return await handler(request, service, user, path)


def _operation(request: web.Request) -> str:
    if "op" in request.query:
        return request.query["op"].upper()
    for key in request.query:
        if key.upper() in _OPERATIONS:
            return key.upper()
    return _DEFAULT_OPERATIONS.get(request.method, "")


# -- reading -----------------------------------------------------------------------------


async def get_file_status(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    visible = await service.stat(user, path)
    return web.json_response({"FileStatus": _file_status(visible, str(path))})


async def list_status(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    directory = await service.stat(user, path)
    if directory.info.type is not FileType.DIRECTORY:
        raise StorageError(errno.ENOTDIR, "Not a directory", str(path))
    entries = service.list(user, path)
    if not _wants_ndjson(request):
        statuses = [_file_status(v, v.info.name) async for v in entries]
        return web.json_response({"FileStatuses": {"FileStatus": statuses}})
    return await _stream_ndjson(
        request, ({"FileStatus": _file_status(v, v.info.name)} async for v in entries)
    )


async def open_file(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    async with service.open(user, path) as (opened, action):
        info = opened.info
        headers = _file_headers(info, action)
        try:
            requested = request.http_range if hdrs.RANGE in request.headers else None
            span = resolve_range(requested, info.length)
        except (ValueError, RangeNotSatisfiableError):
            headers[hdrs.CONTENT_RANGE] = f"bytes */{info.length}"
            return web.Response(status=416, headers=headers)
        status = 200
        if span.partial:
            status = 206
            headers[hdrs.CONTENT_RANGE] = f"bytes {span.start}-{span.end - 1}/{info.length}"
        if opened.content is not None:
            # A small file was read whole: headers and body leave in one write.
            body = opened.content[span.start : span.end]
            return web.Response(
                status=status, headers=headers, body=body, content_type="application/octet-stream"
            )
        response = web.StreamResponse(status=status, headers=headers)
        response.content_type = "application/octet-stream"
        response.content_length = span.end - span.start
        await response.prepare(request)  # sends the headers before the body is sent
        if request.method != "HEAD":
            if request.transport is None:
                raise ConnectionResetError("The client went away")
            await opened.send(request.transport, span.start, span.end)
        await response.write_eof()
        return response


async def head_status(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    """HEAD of a directory (or anything not a file) answers its headers without a body."""
    visible = await service.stat(user, path)
    if visible.info.type is FileType.FILE:
        return await open_file(request, service, user, path)
    return web.Response(headers=_file_headers(visible.info, visible.action))


async def get_disk_usage(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    usage = await service.disk_usage(user, path)
    return web.json_response({"total": usage.total, "used": usage.used, "free": usage.free})


# -- changing ----------------------------------------------------------------------------


async def make_directories(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    await service.mkdirs(user, path)
    return web.Response(status=201)


async def create_file(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    length = request.content_length
    if length is not None and length <= SMALL_FILE_SIZE:
        # Read before writing, so the file is written in one go; a body cut short raises
        # here and nothing is created.
        content: bytes | AsyncIterator[bytes] = await _read_body(request, length)
    else:
        content = request.content.iter_any()
    await service.create(user, path, content)
    return web.Response(status=201)


async def _read_body(request: web.Request, length: int) -> bytes:
    if length == 0:
        return b""  # aiohttp's reader of an empty body refuses even readexactly(0)
    try:
        return await request.content.readexactly(length)
    except asyncio.IncompleteReadError:
        raise BadRequestError("The body ended before its Content-Length") from None


async def create_tar(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    """CREATETAR (see bundles.py): the small files of one directory in one request."""
    length = request.content_length
    if length is None or length > MAX_BUNDLE_BYTES:
        raise StorageError(
            errno.EINVAL,
            f"CREATETAR needs a Content-Length of at most {MAX_BUNDLE_BYTES} bytes",
            str(path),
        )
    files = await asyncio.to_thread(read_bundle, await _read_body(request, length), path)
    await service.create_files(user, path, files)
    return web.json_response({"created": len(files)}, status=201)


async def open_tar(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    """OPENTAR (see bundles.py): the named small files of one directory as one tar."""
    try:
        body = await read_json(request, OpenTarBody)
    except (ValidationError, BadRequestError):
        raise StorageError(
            errno.EINVAL, 'OPENTAR needs a JSON body {"names": [...]}', str(path)
        ) from None
    names, limit = body.names, body.max_file_size
    if any(StoragePath.parse(name).parts != (name,) for name in names):
        raise StorageError(errno.EINVAL, "OPENTAR names must be plain names", str(path))
    files = await service.read_files(user, path, names, min(limit, SMALL_FILE_SIZE))
    archive = await asyncio.to_thread(write_bundle, files)
    return web.Response(body=archive, content_type=TAR)


async def write_file(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    refused = [name for name in _CONDITIONAL_HEADERS if name in request.headers]
    if refused:
        raise BadRequestError(f"Conditional WRITE is not supported: {', '.join(refused)}")
    if request.content_type != "application/octet-stream":
        raise BadRequestError("WRITE needs Content-Type: application/octet-stream")
    content_range = parse_content_range(request.headers.get(hdrs.CONTENT_RANGE, ""))
    if content_range is None:
        raise BadRequestError(
            "WRITE needs Content-Range: bytes <start>-<end>/* (end below 2^63 - 1)"
        )
    start, end = content_range
    length = end - start + 1
    if request.content_length is not None and request.content_length != length:
        raise StorageError(
            errno.EINVAL, "The body's Content-Length differs from its Content-Range", str(path)
        )
    body = take_socket_body(request)
    if body is None:
        await service.write(user, path, start, length, request.content.iter_any())
    else:
        with body:
            try:
                await service.write(user, path, start, length, body)
            except Exception:
                await body.discard_rest()
                raise
    return web.Response(status=200)


async def delete(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    recursive = request.query.get("recursive", "false").lower() in ("true", "1", "yes")
    removed = service.remove(user, path, recursive=recursive)
    if not _wants_ndjson(request):
        async for _ in removed:
            pass
        return web.Response(status=204)
    return await _stream_ndjson(request, (_removed_json(entry) async for entry in removed))


async def rename(
    request: web.Request, service: StorageService, user: str, path: StoragePath
) -> web.StreamResponse:
    destination = request.query.get("destination")
    if not destination:
        raise StorageError(errno.EINVAL, "RENAME needs a destination", str(path))
    await service.rename(user, path, StoragePath.parse(destination))
    return web.Response(status=204)


_HANDLERS: dict[tuple[str, str], Handler] = {
    ("GET", "OPEN"): open_file,
    ("HEAD", "OPEN"): head_status,
    ("GET", "LISTSTATUS"): list_status,
    ("GET", "GETFILESTATUS"): get_file_status,
    ("HEAD", "GETFILESTATUS"): head_status,
    ("GET", "GETDISKUSAGE"): get_disk_usage,
    ("PUT", "MKDIRS"): make_directories,
    ("POST", "MKDIRS"): make_directories,
    ("PUT", "CREATE"): create_file,
    ("POST", "CREATE"): create_file,
    ("PATCH", "WRITE"): write_file,
    ("PUT", "CREATETAR"): create_tar,
    ("POST", "OPENTAR"): open_tar,
    ("POST", "RENAME"): rename,
    ("DELETE", "DELETE"): delete,
}


# -- answers -----------------------------------------------------------------------------


def _wants_ndjson(request: web.Request) -> bool:
    return NDJSON in request.headers.get(hdrs.ACCEPT, "")


async def _stream_ndjson(
    request: web.Request, items: AsyncIterator[dict[str, Any]]
) -> web.StreamResponse:
    # Fetch the first item before answering, so errors at the start (not found, refused)
    # still get their proper status; later errors can only be reported in-band.
    try:
        first = await anext(items)
    except StopAsyncIteration:
        first = None
    response = web.StreamResponse(status=200)
    response.content_type = NDJSON
    await response.prepare(request)
    buffer = bytearray()
    try:
        if first is not None:
            buffer += _ndjson_line(first)
            async for item in items:
                buffer += _ndjson_line(item)
                if len(buffer) >= NDJSON_FLUSH_BYTES:
                    await response.write(bytes(buffer))
                    buffer.clear()
    except StorageError as e:
        buffer += _ndjson_line({"error": e.text, "errno": e.errno_name})
    await response.write(bytes(buffer))
    await response.write_eof()
    return response


def _ndjson_line(item: dict[str, Any]) -> bytes:
    return json.dumps(item, ensure_ascii=False).encode() + b"\r\n"


def _file_status(visible: VisibleFile, path: str) -> dict[str, Any]:
    info = visible.info
    status: dict[str, Any] = {
        "path": path,
        "length": info.length,
        "modificationTime": info.modification_time,
        "permission": _wire_action(visible.action),
        "type": str(info.type),
    }
    if info.target is not None:
        status["target"] = info.target
    return status


def _wire_action(action: Action) -> str:
    # Clients know read/write/manage only; `list` means "visible", which reads as read.
    return str(action) if action in (Action.WRITE, Action.MANAGE) else str(Action.READ)


def _removed_json(entry: RemovedEntry) -> dict[str, Any]:
    return {"path": entry.path, "is_dir": entry.is_dir}


def _file_headers(info: FileInfo, action: Action) -> dict[str, str]:
    return {
        hdrs.LAST_MODIFIED: formatdate(info.modification_time, usegmt=True),
        "X-File-Type": str(info.type),
        "X-File-Permission": _wire_action(action),
        "X-File-Length": str(info.length),
        "Accept-Range": "bytes",  # the spelling the original service used
        hdrs.ACCEPT_RANGES: "bytes",
    }
