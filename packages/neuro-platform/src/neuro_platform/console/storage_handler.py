"""The console's storage browser: folders, upload (files and folders, with progress: the
browser PUTs each file, `static/console.js`), download, rename, delete, new folder and disk
usage. Every operation goes through `StorageService`, built on the very filesystem and quota
that `/api/v1/storage` serves (`storage/keys.py:StorageBackend`), so the permission checks and
the quota are the API's."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel

from ..api.keys import PERMISSIONS, SETTINGS, SHARING
from ..api.openapi import describe
from ..permissions.actions import Action
from ..storage.entries import FileType
from ..storage.keys import STORAGE_BACKENDS
from ..storage.paths import StoragePath
from ..storage.service import StorageService
from .context import caller
from .jobs_pages import sharing_section
from .markup import cells, csrf_field, h, page, post_button, redirect, size, table, url, when

routes = web.RouteTableDef()


class RenameForm(BaseModel):
    csrf: str | None = None
    name: str | None = None


class FolderForm(BaseModel):
    csrf: str | None = None
    name: str | None = None


def _service(request: web.Request) -> StorageService:
    """The first cluster's storage (the one `neuro` uses by default)."""
    settings = request.config_dict[SETTINGS]
    backend = request.config_dict[STORAGE_BACKENDS][settings.clusters[0].name]
    return StorageService(
        backend.cluster_name, backend.filesystem, request.config_dict[PERMISSIONS], backend.quota
    )


def _path(request: web.Request) -> StoragePath:
    return StoragePath.parse(request.match_info.get("path", ""))


def _browse_url(path: StoragePath) -> str:
    return "/console/storage" + quote(str(path), safe="/")


@routes.get("/storage")
async def storage_home(request: web.Request) -> web.Response:
    """The caller's storage home"""
    return redirect(_browse_url(StoragePath((caller(request).name,))))


@routes.get("/storage/{path:.+}")
async def browse(request: web.Request) -> web.Response:
    """A storage folder"""
    who = caller(request)
    service = _service(request)
    path = _path(request)
    entries = sorted(
        [v async for v in service.list(who.name, path)],
        key=lambda v: (v.info.type is not FileType.DIRECTORY, v.info.name),
    )
    usage = await service.disk_usage(who.name, path)
    rows = []
    for visible in entries:
        info = visible.info
        child = path.child(info.name)
        if info.type is FileType.DIRECTORY:
            link = f'<a href="{url(_browse_url(child))}">{h(info.name)}/</a>'
        else:
            target = url("/console/storage-download" + str(child))
            link = f'<a href="{target}" download>{h(info.name)}</a>'
        writable = visible.action.satisfies(Action.WRITE)
        actions = ""
        if writable:
            actions = (
                f'<form method="post" action="{url("/console/storage-rename" + str(child))}" '
                'class="inline">'
                + csrf_field(who.csrf)
                + f'<label><span class="sr">New name for {h(info.name)}</span>'
                + f'<input name="name" value="{h(info.name)}" size="12"></label>'
                + '<button type="submit">Rename</button></form>'
                + post_button(
                    "/console/storage-delete" + str(child),
                    "Delete",
                    who.csrf,
                    id_=f"delete-{info.name}",
                )
            )
        rows.append(
            cells(
                link,
                h(size(info.length) if info.type is FileType.FILE else "–"),
                when_ts(info.modification_time),
                actions,
            )
        )
    crumbs = " / ".join(
        f'<a href="{url(_browse_url(StoragePath(path.parts[: i + 1])))}">{h(part)}</a>'
        for i, part in enumerate(path.parts)
    )
    uri = str(service.uri(path))
    shares = await request.config_dict[SHARING].shared_by(who.name, service.uri(path))
    body = (
        f'<p class="crumbs">storage: / {crumbs}</p>'
        f'<p id="usage">Disk: {h(size(usage.used))} used of {h(size(usage.total))} '
        f"({h(size(usage.free))} free)</p>"
        + table(("Name", "Size", "Modified", ""), rows, id_="files", empty="Empty folder.")
        + '<h2>Upload</h2><div class="upload" id="upload" '
        f'data-target="{url("/console/storage-upload" + str(path))}">'
        '<label>Files <input type="file" id="upload-files" multiple></label>'
        '<label>A folder <input type="file" id="upload-folder" webkitdirectory></label>'
        '<progress id="upload-progress" max="1" value="0"></progress>'
        '<p id="upload-status" role="status" aria-live="polite"></p></div>'
        + "<h2>New folder</h2>"
        + f'<form method="post" action="{url("/console/storage-mkdir" + str(path))}" '
        'class="inline">'
        + csrf_field(who.csrf)
        + '<label>Name <input name="name" id="folder-name" required></label>'
        '<button type="submit" id="mkdir">Create</button></form>'
        + "<h2>Sharing</h2>"
        + sharing_section(uri, shares, who.csrf, back=_browse_url(path))
    )
    return web.Response(
        text=page(f"Storage {path}", body, user=who.name, csrf=who.csrf), content_type="text/html"
    )


def when_ts(seconds: int) -> str:
    return when(datetime.fromtimestamp(seconds, UTC))


@routes.get("/storage-download/{path:.+}")
async def download(request: web.Request) -> web.StreamResponse:
    """Download a file"""
    path = _path(request)
    async with _service(request).open(caller(request).name, path) as (opened, _):
        info = opened.info
        if info.type is not FileType.FILE:
            raise ValueError(f"{path} is not a file")
        disposition = f"attachment; filename*=UTF-8''{quote(info.name, safe='')}"
        response = web.StreamResponse(
            headers={"Content-Disposition": disposition, "Content-Type": "application/octet-stream"}
        )
        response.content_length = info.length
        await response.prepare(request)
        if opened.content is not None:
            await response.write(opened.content)
        else:
            if request.transport is None:
                raise ConnectionResetError("The client went away")
            await opened.send(request.transport, 0, info.length)
        await response.write_eof()
        return response


@routes.put("/storage-upload/{path:.+}")
@describe(
    "Upload one file (the body)",
    body={"type": "string", "format": "binary"},
    media_type="application/octet-stream",
)
async def upload(request: web.Request) -> web.Response:
    who = caller(request)
    service = _service(request)
    path = _path(request)
    if len(path.parts) > 1:
        await service.mkdirs(who.name, path.parent)
    await service.create(who.name, path, request.content.iter_any())
    return web.Response(status=201)


@routes.post("/storage-rename/{path:.+}")
@describe(
    "Rename a file or folder", body=RenameForm, media_type="application/x-www-form-urlencoded"
)
async def rename(request: web.Request) -> web.Response:
    path = _path(request)
    name = str((await request.post()).get("name", ""))
    if not name or "/" in name:
        raise ValueError("The new name must be a file name (no '/')")
    await _service(request).rename(caller(request).name, path, path.parent.child(name))
    return redirect(_browse_url(path.parent))


@routes.post("/storage-delete/{path:.+}")
async def delete(request: web.Request) -> web.Response:
    """Delete a file or folder"""
    path = _path(request)
    async for _ in _service(request).remove(caller(request).name, path, recursive=True):
        pass
    return redirect(_browse_url(path.parent))


@routes.post("/storage-mkdir/{path:.+}")
@describe("Create a folder", body=FolderForm, media_type="application/x-www-form-urlencoded")
async def mkdir(request: web.Request) -> web.Response:
    path = _path(request)
    name = str((await request.post()).get("name", ""))
    if not name or "/" in name:
        raise ValueError("The folder name must be a file name (no '/')")
    await _service(request).mkdirs(caller(request).name, path.child(name))
    return redirect(_browse_url(path.child(name)))
