"""Remote filesystem operations of ``Client.storage`` against the real server."""

import errno
import time
from collections.abc import AsyncIterator

import pytest
from yarl import URL

import neuro_sdk
from neuro_sdk import AbstractDeleteProgress, FileStatus, StorageProgressDelete
from neuro_sdk._storage_entities import FileStatusType


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _read(
    client: neuro_sdk.Client, uri: URL, offset: int = 0, size: int | None = None
) -> bytes:
    async with client.storage.open(uri, offset, size) as content:
        return b"".join([chunk async for chunk in content])


async def _names(client: neuro_sdk.Client, uri: URL) -> list[str]:
    async with client.storage.list(uri) as statuses:
        return sorted([status.name async for status in statuses])


async def test_create_write_open_with_offset_and_size(
    client: neuro_sdk.Client, remote_dir: URL
) -> None:
    uri = remote_dir / "data.bin"
    await client.storage.mkdir(remote_dir, parents=True)
    await client.storage.create(uri, _chunks(b"hello ", b"world"))
    await client.storage.write(uri, b"WORLD", 6)

    assert await _read(client, uri) == b"hello WORLD"
    assert await _read(client, uri, offset=6) == b"WORLD"
    assert await _read(client, uri, offset=2, size=3) == b"llo"
    assert await _read(client, uri, offset=3, size=0) == b""


async def test_stat_and_list_report_documented_fields(
    client: neuro_sdk.Client, remote_dir: URL
) -> None:
    before = int(time.time()) - 1
    await client.storage.mkdir(remote_dir / "sub", parents=True)
    await client.storage.create(remote_dir / "a file.txt", _chunks(b"12345"))

    status = await client.storage.stat(remote_dir / "a file.txt")
    assert status.is_file()
    assert not status.is_dir()
    assert status.type is FileStatusType.FILE
    assert status.size == 5
    assert status.name == "a file.txt"
    assert status.path == "/alice/tests/test_stat_and_list_report_documented_fields/a file.txt"
    assert status.permission is neuro_sdk.Action.MANAGE
    assert status.modification_time >= before
    assert status.uri == URL(
        "storage://default/alice/tests/test_stat_and_list_report_documented_fields/a%20file.txt"
    )

    async with client.storage.list(remote_dir) as statuses:
        listed: dict[str, FileStatus] = {s.name: s async for s in statuses}
    assert sorted(listed) == ["a file.txt", "sub"]
    assert listed["sub"].is_dir()
    assert listed["a file.txt"].uri == status.uri


async def test_mkdir_follows_parents_and_exist_ok(
    client: neuro_sdk.Client, remote_dir: URL
) -> None:
    with pytest.raises(FileNotFoundError):
        await client.storage.mkdir(remote_dir / "a" / "b")
    await client.storage.mkdir(remote_dir / "a" / "b", parents=True)
    with pytest.raises(FileExistsError):
        await client.storage.mkdir(remote_dir / "a" / "b", parents=True)
    await client.storage.mkdir(remote_dir / "a" / "b", parents=True, exist_ok=True)
    await client.storage.create(remote_dir / "file", _chunks(b"x"))
    with pytest.raises(NotADirectoryError):
        await client.storage.mkdir(remote_dir / "file" / "sub")

    assert await _names(client, remote_dir / "a") == ["b"]


async def test_mv_renames_files_and_directories(client: neuro_sdk.Client, remote_dir: URL) -> None:
    await client.storage.mkdir(remote_dir / "dir", parents=True)
    await client.storage.create(remote_dir / "dir" / "f.txt", _chunks(b"content"))

    await client.storage.mv(remote_dir / "dir" / "f.txt", remote_dir / "dir" / "ü g.txt")
    await client.storage.mv(remote_dir / "dir", remote_dir / "moved")

    assert await _names(client, remote_dir) == ["moved"]
    assert await _read(client, remote_dir / "moved" / "ü g.txt") == b"content"
    with pytest.raises(neuro_sdk.ResourceNotFound):
        await client.storage.mv(remote_dir / "missing", remote_dir / "other")


class _Deleted(AbstractDeleteProgress):
    def __init__(self) -> None:
        self.events: list[StorageProgressDelete] = []

    def delete(self, data: StorageProgressDelete) -> None:
        self.events.append(data)


async def test_rm_recursive_reports_every_entry_children_first(
    client: neuro_sdk.Client, remote_dir: URL
) -> None:
    await client.storage.mkdir(remote_dir / "tree" / "inner", parents=True)
    await client.storage.create(remote_dir / "tree" / "inner" / "f", _chunks(b"1"))
    await client.storage.create(remote_dir / "tree" / "g", _chunks(b"2"))

    with pytest.raises(IsADirectoryError):
        await client.storage.rm(remote_dir / "tree")
    progress = _Deleted()
    await client.storage.rm(remote_dir / "tree", recursive=True, progress=progress)

    base = await client.storage.stat(remote_dir)
    tree = base.uri / "tree"
    removed = [(event.uri, event.is_dir) for event in progress.events]
    assert sorted(removed) == sorted(
        [(tree / "inner" / "f", False), (tree / "inner", True), (tree / "g", False), (tree, True)]
    )
    assert removed[-1] == (tree, True), "the directory itself goes last"
    assert removed.index((tree / "inner" / "f", False)) < removed.index((tree / "inner", True))
    assert await _names(client, remote_dir) == []
    with pytest.raises(neuro_sdk.ResourceNotFound):
        await client.storage.rm(remote_dir / "tree")


async def test_errors_are_the_documented_oserrors(
    client: neuro_sdk.Client, remote_dir: URL
) -> None:
    await client.storage.mkdir(remote_dir, parents=True)
    await client.storage.create(remote_dir / "file", _chunks(b"x"))
    with pytest.raises(NotADirectoryError) as not_dir:
        async with client.storage.list(remote_dir / "file") as statuses:
            [s async for s in statuses]
    assert not_dir.value.errno == errno.ENOTDIR
    with pytest.raises(neuro_sdk.ResourceNotFound):
        await client.storage.stat(remote_dir / "missing")
    with pytest.raises(IsADirectoryError):
        await client.storage.create(remote_dir, _chunks(b"x"))


async def test_glob_patterns(client: neuro_sdk.Client, remote_dir: URL) -> None:
    for name in ["a.py", "b.py", "c.txt", ".hidden.py", "sub/d.py", "sub/deep/e.py", "sub/f.txt"]:
        uri = remote_dir / name
        await client.storage.mkdir(uri.parent, parents=True, exist_ok=True)
        await client.storage.create(uri, _chunks(b"x"))
    prefix = str(remote_dir)  # matches come back in the pattern's (short) form

    async def glob(pattern: str, dironly: bool = False) -> list[str]:
        async with client.storage.glob(remote_dir / pattern, dironly=dironly) as uris:
            return sorted([str(uri).removeprefix(prefix).lstrip("/") async for uri in uris])

    assert await glob("*.py") == ["a.py", "b.py"]
    assert await glob("?.txt") == ["c.txt"]
    assert await glob("[ac].*") == ["a.py", "c.txt"]
    assert await glob(".*.py") == [".hidden.py"]
    assert await glob("**/*.py") == ["a.py", "b.py", "sub/d.py", "sub/deep/e.py"]
    assert await glob("sub/**/*.txt") == ["sub/f.txt"]
    assert await glob("*", dironly=True) == ["sub"]
    assert await glob("**", dironly=True) == ["", "sub", "sub/deep"]
    # A last ** is everything below, files too (not dot names), as in the original.
    assert await glob("**") == [
        "", "a.py", "b.py", "c.txt", "sub", "sub/d.py", "sub/deep", "sub/deep/e.py", "sub/f.txt"
    ]  # fmt: skip
    with pytest.raises(FileNotFoundError):  # as the original, whose listing of it fails
        await glob("missing/*.py")


async def test_disk_usage_of_the_current_cluster(client: neuro_sdk.Client) -> None:
    usage = await client.storage.disk_usage()

    assert usage.cluster_name == "default"
    assert usage.org_name is None
    assert usage.total > 0
    assert usage.used + usage.free <= usage.total
