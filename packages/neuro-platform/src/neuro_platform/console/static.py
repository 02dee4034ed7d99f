"""The console's scripts, styles and vendored libraries, from `static/` in the package.

The files are read once and served from memory under a fixed list of names (no path from a
request ever reaches the filesystem), with an ETag of their content: a browser revalidates
and gets 304.
"""

from __future__ import annotations

import hashlib
import mimetypes
from functools import cache
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"
_TYPES = {".js": "text/javascript", ".css": "text/css"}

routes = web.RouteTableDef()


@cache
def _files() -> dict[str, tuple[bytes, str, str]]:
    found = {}
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            content = path.read_bytes()
            kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"
            etag = hashlib.sha256(content).hexdigest()[:32]
            found[path.relative_to(STATIC_DIR).as_posix()] = (content, kind, f'"{etag}"')
    return found


@routes.get("/static/{name:.+}")
async def static_file(request: web.Request) -> web.Response:
    """A console script, style or vendored library"""
    found = _files().get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound()
    content, kind, etag = found
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=content, content_type=kind, headers=headers)
