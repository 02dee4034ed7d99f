"""Uploads and downloads between local files and one bucket (``Buckets.upload_*`` and
``download_*``), with the progress events, ``update``, ``continue_`` and filters of
``Storage``'s transfers.

A directory is a key prefix ending in ``/``; an upload also stores an empty ``dir/``
object for each directory, as the original client does, so empty directories survive a
round trip. A download never writes outside its target: a key with an empty, ``.`` or
``..`` part (which S3 allows) is reported through ``progress.fail`` and skipped.
"""

import asyncio
import os
import stat as stat_module
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yarl import URL

from ._buckets_entities import BucketEntry
from ._buckets_s3 import S3Bucket
from ._file_filter import IgnoreRules
from ._storage_entities import (
    AbstractFileProgress,
    AbstractRecursiveFileProgress,
    StorageProgressComplete,
    StorageProgressEnterDir,
    StorageProgressFail,
    StorageProgressLeaveDir,
    StorageProgressStart,
    StorageProgressStep,
)
from ._transfer import _scan_local, resume_offset, run_all
from ._uris import local_path_to_uri

Filter = Callable[[str], Awaitable[bool]]


def blob_mtime(entry: BucketEntry) -> float:
    return entry.modified_at.timestamp() if entry.modified_at is not None else 0.0


def is_safe_relative(relative: str) -> bool:
    """Whether a key below a downloaded prefix maps to a path inside the target."""
    parts = relative.split("/")
    return all(part not in ("", ".", "..") and "\0" not in part for part in parts)


async def upload_file(
    s3: S3Bucket,
    path: Path,
    key: str,
    *,
    info: os.stat_result,
    update: bool,
    existing: BucketEntry | None,
    progress: AbstractFileProgress,
) -> None:
    if update:
        offset = resume_offset(
            src_size=info.st_size,
            src_mtime=info.st_mtime,
            dst_size=existing.size if existing is not None else None,
            dst_mtime=blob_mtime(existing) if existing is not None else None,
            update=True,
            continue_=False,
        )
        if offset is None:
            return
    src, dst = local_path_to_uri(path), URL(f"{s3.bucket.uri}/{key}")
    size = info.st_size
    progress.start(StorageProgressStart(src, dst, size))
    done = 0

    def step(count: int) -> None:
        nonlocal done
        done += count
        progress.step(StorageProgressStep(src, dst, done, size))

    await s3.put_file(key, path, size, step)
    progress.complete(StorageProgressComplete(src, dst, size))


async def download_file(
    s3: S3Bucket,
    entry: BucketEntry,
    path: Path,
    *,
    update: bool,
    continue_: bool,
    progress: AbstractFileProgress,
) -> None:
    local = await asyncio.to_thread(_stat_or_none, path) if update or continue_ else None
    offset = resume_offset(
        src_size=entry.size,
        src_mtime=blob_mtime(entry),
        dst_size=local.st_size if local is not None else None,
        dst_mtime=local.st_mtime if local is not None else None,
        update=update,
        continue_=continue_,
    )
    if offset is None:
        return
    src, dst = entry.uri, local_path_to_uri(path)
    progress.start(StorageProgressStart(src, dst, entry.size))
    done = offset

    def step(count: int) -> None:
        nonlocal done
        done += count
        progress.step(StorageProgressStep(src, dst, done, entry.size))

    await s3.download_file(entry.key, path, size=entry.size, offset=offset, progress=step)
    progress.complete(StorageProgressComplete(src, dst, entry.size))


async def upload_tree(
    s3: S3Bucket,
    src: Path,
    prefix: str,
    *,
    update: bool,
    filter: Filter | None,
    ignore_file_names: frozenset[str],
    progress: AbstractRecursiveFileProgress,
) -> None:
    """Uploads directory ``src`` under ``prefix`` ("" or ending in "/")."""
    slots = asyncio.Semaphore(s3.sizes.files_concurrency)
    existing: dict[str, BucketEntry] = {}
    if update:
        existing = {e.key: e async for e in s3.listing(prefix, recursive=True)}

    async def one_file(path: Path, info: os.stat_result, key: str) -> None:
        async with slots:
            await upload_file(
                s3,
                path,
                key,
                info=info,
                update=update,
                existing=existing.get(key),
                progress=progress,
            )

    async def one_dir(directory: Path, key: str, relative: str, rules: IgnoreRules) -> None:
        src_uri, dst_uri = local_path_to_uri(directory), URL(f"{s3.bucket.uri}/{key}")
        progress.enter(StorageProgressEnterDir(src_uri, dst_uri))
        if key and key not in existing:
            async with slots:
                await s3.put(key, b"")
        entries = await asyncio.to_thread(_scan_local, directory)
        rules = await asyncio.to_thread(rules.entering, directory, relative, ignore_file_names)
        jobs: list[Coroutine[Any, Any, None]] = []
        for name, info in entries:
            child_relative = f"{relative}/{name}" if relative else name
            is_dir = stat_module.S_ISDIR(info.st_mode)
            if rules.is_ignored(child_relative, is_dir=is_dir):
                continue
            if filter is not None and not await filter(child_relative):
                continue
            if is_dir:
                jobs.append(one_dir(directory / name, f"{key}{name}/", child_relative, rules))
            elif stat_module.S_ISREG(info.st_mode):
                jobs.append(one_file(directory / name, info, key + name))
            else:
                progress.fail(
                    StorageProgressFail(
                        local_path_to_uri(directory / name),
                        URL(f"{s3.bucket.uri}/{key}{name}"),
                        "Cannot upload special file",
                    )
                )
        await run_all(jobs)
        progress.leave(StorageProgressLeaveDir(src_uri, dst_uri))

    await one_dir(src, prefix, "", IgnoreRules())


@dataclass
class _Tree:
    files: list[BucketEntry] = field(default_factory=list)
    dirs: dict[str, "_Tree"] = field(default_factory=dict)


async def download_tree(
    s3: S3Bucket,
    prefix: str,
    dst: Path,
    *,
    update: bool,
    continue_: bool,
    filter: Filter | None,
    progress: AbstractRecursiveFileProgress,
) -> None:
    """Downloads every blob under ``prefix`` ("" or ending in "/") into directory ``dst``."""
    root = _Tree()
    async for entry in s3.listing(prefix, recursive=True):
        relative = entry.key[len(prefix) :]
        if relative == "":
            continue  # the directory's own marker
        if not is_safe_relative(relative.rstrip("/") if entry.is_dir() else relative):
            progress.fail(
                StorageProgressFail(
                    entry.uri, local_path_to_uri(dst), f"Unsafe key {entry.key!r} skipped"
                )
            )
            continue
        *folders, name = relative.rstrip("/").split("/")
        node = root
        for folder in folders:
            node = node.dirs.setdefault(folder, _Tree())
        if entry.is_dir():
            node.dirs.setdefault(name, _Tree())
        else:
            node.files.append(entry)
    slots = asyncio.Semaphore(s3.sizes.files_concurrency)

    async def one_file(entry: BucketEntry, path: Path) -> None:
        async with slots:
            await download_file(
                s3, entry, path, update=update, continue_=continue_, progress=progress
            )

    async def one_dir(node: _Tree, key: str, target: Path, relative: str) -> None:
        src_uri, dst_uri = URL(f"{s3.bucket.uri}/{key}"), local_path_to_uri(target)
        progress.enter(StorageProgressEnterDir(src_uri, dst_uri))
        await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
        jobs: list[Coroutine[Any, Any, None]] = []
        for name, child in sorted(node.dirs.items()):
            child_relative = f"{relative}/{name}" if relative else name
            if filter is None or await filter(child_relative):
                jobs.append(one_dir(child, f"{key}{name}/", target / name, child_relative))
        for entry in node.files:
            child_relative = f"{relative}/{entry.name}" if relative else entry.name
            if filter is None or await filter(child_relative):
                jobs.append(one_file(entry, target / entry.name))
        await run_all(jobs)
        progress.leave(StorageProgressLeaveDir(src_uri, dst_uri))

    await one_dir(root, prefix, dst, "")


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None
