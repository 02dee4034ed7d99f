"""The storage filesystem layer on a real directory: content, tree operations and safety."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from neuro_platform.storage.anchored import GuardedFd
from neuro_platform.storage.entries import FileType
from neuro_platform.storage.errors import StorageError
from neuro_platform.storage.filesystem import BLOCK_SIZE, LocalFilesystem
from neuro_platform.storage.paths import StoragePath


def p(text: str) -> StoragePath:
    return StoragePath.parse(text)


async def chunks(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(fs: LocalFilesystem, path: StoragePath, start: int = 0) -> bytes:
    """The file's bytes from `start`, sent to a real socket as OPEN sends them."""
    async with fs.open(path) as opened:
        ours, theirs = socket.socketpair()
        reader, reader_writer = await asyncio.open_connection(sock=theirs)
        _, writer = await asyncio.open_connection(sock=ours)

        async def send() -> None:
            await opened.send(writer.transport, start, opened.info.length)
            writer.close()
            await writer.wait_closed()

        data, _ = await asyncio.gather(reader.read(), send())
        reader_writer.close()
        await reader_writer.wait_closed()
        return data


@pytest.fixture
async def fs(tmp_path: Path) -> LocalFilesystem:
    filesystem = LocalFilesystem(tmp_path / "root")
    await filesystem.ensure_root()
    return filesystem


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the storage root that nothing may read or change."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret.txt").write_text("top secret")
    return directory


async def test_multi_block_file_round_trips_byte_identical(fs: LocalFilesystem) -> None:
    data = os.urandom(3 * BLOCK_SIZE + 12345)
    size = await fs.create(p("alice/data/big.bin"), chunks(data, 100_000))
    assert size == len(data)
    info = await fs.stat(p("alice/data/big.bin"))
    assert (info.type, info.length) == (FileType.FILE, len(data))
    assert hashlib.sha256(await read_all(fs, p("alice/data/big.bin"))).digest() == (
        hashlib.sha256(data).digest()
    )
    assert (
        await read_all(fs, p("alice/data/big.bin"), start=BLOCK_SIZE + 7) == data[BLOCK_SIZE + 7 :]
    )


async def test_empty_file_and_unicode_names_are_listed(fs: LocalFilesystem) -> None:
    await fs.create(p("alice/пустой файл.txt"), chunks(b""))
    await fs.create(p("alice/日本 語.md"), chunks(b"hello"))
    await fs.mkdirs(p("alice/dir with spaces"))
    listing = {info.name: info async for info in fs.list(p("alice"))}
    assert set(listing) == {"пустой файл.txt", "日本 語.md", "dir with spaces"}
    assert listing["пустой файл.txt"].length == 0
    assert listing["日本 語.md"].length == 5
    assert listing["dir with spaces"].type is FileType.DIRECTORY
    assert await read_all(fs, p("alice/пустой файл.txt")) == b""


async def test_write_at_offset_resumes_a_file(fs: LocalFilesystem) -> None:
    await fs.create(p("alice/f"), chunks(b"0123456789"))
    await fs.write(p("alice/f"), 10, 5, chunks(b"abcde"))
    await fs.write(p("alice/f"), 2, 3, chunks(b"XYZ"))
    assert await read_all(fs, p("alice/f")) == b"01XYZ56789abcde"


async def test_multi_block_write_lands_in_place_and_is_flushed_before_it_returns(
    fs: LocalFilesystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = os.urandom(1000)
    await fs.create(p("alice/f"), chunks(head))
    events: list[str] = []

    def recorded(name: str) -> Callable[..., None]:
        original: Callable[..., None] = getattr(GuardedFd, name)

        def record(self: GuardedFd, *args: object) -> None:
            events.append(name)
            original(self, *args)

        return record

    for name in ("pwritev_all", "start_writeback", "fdatasync"):
        monkeypatch.setattr(GuardedFd, name, recorded(name))
    body = os.urandom(3 * BLOCK_SIZE + 777)
    await fs.write(p("alice/f"), len(head), len(body), chunks(body, 100_000))
    assert await read_all(fs, p("alice/f")) == head + body
    # 32 chunks of 100,000 bytes are written in blocks of about BLOCK_SIZE (11 chunks).
    assert events.count("pwritev_all") == 3
    # Each block's writeback starts when it is written; the flush comes after the last.
    assert events.count("start_writeback") == 3
    assert events[-1] == "fdatasync"


async def test_write_refuses_missing_files_and_wrong_lengths(fs: LocalFilesystem) -> None:
    with pytest.raises(StorageError) as missing:
        await fs.write(p("alice/none"), 0, 3, chunks(b"abc"))
    assert missing.value.code == errno.ENOENT
    await fs.create(p("alice/f"), chunks(b""))
    with pytest.raises(StorageError) as longer:
        await fs.write(p("alice/f"), 0, 2, chunks(b"abc"))
    assert longer.value.code == errno.EINVAL


async def test_interrupted_create_leaves_old_content_and_no_partial_file(
    fs: LocalFilesystem,
) -> None:
    await fs.create(p("alice/model.bin"), chunks(b"old model"))

    async def broken_upload() -> AsyncIterator[bytes]:
        yield os.urandom(2 * BLOCK_SIZE)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await fs.create(p("alice/model.bin"), broken_upload())
    with pytest.raises(ConnectionResetError):
        await fs.create(p("alice/new.bin"), broken_upload())
    assert await read_all(fs, p("alice/model.bin")) == b"old model"
    assert [info.name async for info in fs.list(p("alice"))] == ["model.bin"]
    assert sorted(os.listdir(fs.root / "alice")) == ["model.bin"]  # temporary file cleaned up


async def test_open_range_and_directory_errors(fs: LocalFilesystem) -> None:
    await fs.mkdirs(p("alice/d"))
    with pytest.raises(StorageError) as is_dir:
        await read_all(fs, p("alice/d"))
    assert is_dir.value.code == errno.EISDIR
    with pytest.raises(StorageError) as missing:
        await fs.stat(p("alice/nothing"))
    assert missing.value.code == errno.ENOENT
    with pytest.raises(StorageError) as create_over_dir:
        await fs.create(p("alice/d"), chunks(b"x"))
    assert create_over_dir.value.code == errno.EISDIR


async def test_mkdirs_creates_parents_and_reports_files_in_the_way(fs: LocalFilesystem) -> None:
    await fs.mkdirs(p("alice/a/b/c"))
    await fs.mkdirs(p("alice/a/b/c"))  # existing directory: fine
    assert (await fs.stat(p("alice/a/b/c"))).type is FileType.DIRECTORY
    await fs.create(p("alice/file"), chunks(b"x"))
    with pytest.raises(StorageError) as exists:
        await fs.mkdirs(p("alice/file"))
    assert exists.value.code == errno.EEXIST
    with pytest.raises(StorageError) as not_dir:
        await fs.mkdirs(p("alice/file/sub"))
    assert not_dir.value.code == errno.ENOTDIR


async def test_deep_tree_is_removed_bottom_up_with_progress(fs: LocalFilesystem) -> None:
    depth = 60
    deepest = p("alice/tree/" + "/".join(f"level{i}" for i in range(depth)))
    await fs.mkdirs(deepest)
    await fs.create(deepest.child("leaf.txt"), chunks(b"leaf"))
    await fs.create(p("alice/tree/top.txt"), chunks(b"top"))
    with pytest.raises(StorageError) as not_recursive:
        [entry async for entry in fs.remove(p("alice/tree"), recursive=False)]
    assert not_recursive.value.code == errno.EISDIR

    removed = [entry async for entry in fs.remove(p("alice/tree"), recursive=True)]

    assert len(removed) == depth + 3  # every directory, both files and the top
    assert (removed[-1].path, removed[-1].is_dir) == ("/alice/tree", True)
    assert {e.path for e in removed if not e.is_dir} == {
        "/alice/tree/top.txt",
        str(deepest.child("leaf.txt")),
    }
    assert [info.name async for info in fs.list(p("alice"))] == []


async def test_rename_moves_files_and_reports_bad_destinations(fs: LocalFilesystem) -> None:
    await fs.create(p("alice/a.txt"), chunks(b"a"))
    await fs.rename(p("alice/a.txt"), p("alice/b.txt"))
    assert await read_all(fs, p("alice/b.txt")) == b"a"
    with pytest.raises(StorageError) as missing_source:
        await fs.rename(p("alice/a.txt"), p("alice/c.txt"))
    assert missing_source.value.code == errno.ENOENT
    assert missing_source.value.path == "/alice/a.txt"
    with pytest.raises(StorageError) as missing_parent:
        await fs.rename(p("alice/b.txt"), p("alice/no/such/dir.txt"))
    assert missing_parent.value.code == errno.ENOENT
    assert missing_parent.value.path == "/alice/no/such/dir.txt"
    await fs.mkdirs(p("alice/d"))
    with pytest.raises(StorageError) as into_itself:
        await fs.rename(p("alice/d"), p("alice/d/inner"))
    assert into_itself.value.code == errno.EINVAL


async def test_disk_usage_reports_the_filesystem(fs: LocalFilesystem) -> None:
    usage = await fs.disk_usage()
    statvfs = os.statvfs(fs.root)
    assert usage.total == statvfs.f_blocks * statvfs.f_frsize
    assert 0 < usage.free <= usage.total
    assert 0 <= usage.used <= usage.total


@pytest.mark.parametrize(
    "text",
    [
        "alice/../bob",
        "..",
        "alice/./x",
        "alice/\x00/x",
        "alice/.neuro-partial-abc",
        "a/" + "x" * 256,
    ],
)
def test_unsafe_paths_are_refused(text: str) -> None:
    with pytest.raises(StorageError) as refused:
        StoragePath.parse(text)
    assert refused.value.code in (errno.EINVAL, errno.ENAMETOOLONG)


def test_absolute_and_doubled_slashes_stay_under_the_root() -> None:
    assert StoragePath.parse("//etc//passwd/") == StoragePath(("etc", "passwd"))
    assert StoragePath.parse("%2e%2e/x") == StoragePath(("%2e%2e", "x"))  # never decoded twice
    assert str(StoragePath.parse("alice/x")) == "/alice/x"


async def test_symlinks_leading_outside_are_never_followed(
    fs: LocalFilesystem, outside: Path
) -> None:
    await fs.mkdirs(p("alice"))
    home = fs.root / "alice"
    (home / "dir-link").symlink_to(outside)
    (home / "file-link").symlink_to(outside / "secret.txt")
    (home / "relative-link").symlink_to("../../outside/secret.txt")

    listing = {info.name: info async for info in fs.list(p("alice"))}
    assert listing["dir-link"].type is FileType.SYMLINK
    assert listing["dir-link"].target == str(outside)
    for route in ("alice/file-link", "alice/relative-link", "alice/dir-link/secret.txt"):
        with pytest.raises(StorageError) as refused:
            await read_all(fs, p(route))
        assert refused.value.code == errno.ELOOP
    with pytest.raises(StorageError):
        [info async for info in fs.list(p("alice/dir-link"))]
    for write in (
        fs.create(p("alice/dir-link/planted.txt"), chunks(b"evil")),
        fs.write(p("alice/file-link"), 0, 4, chunks(b"evil")),
        fs.mkdirs(p("alice/dir-link/sub")),
        fs.rename(p("alice/file-link"), p("alice/dir-link/moved")),
    ):
        with pytest.raises(StorageError):
            await write
    # Overwriting or removing a link replaces the link itself, never its target.
    await fs.create(p("alice/file-link"), chunks(b"mine"))
    [entry async for entry in fs.remove(p("alice/dir-link"), recursive=True)]

    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "top secret"
    assert await read_all(fs, p("alice/file-link")) == b"mine"


async def test_symlinked_directory_inside_a_removed_tree_keeps_its_target(
    fs: LocalFilesystem, outside: Path
) -> None:
    await fs.mkdirs(p("alice/tree/sub"))
    (fs.root / "alice/tree/sub/escape").symlink_to(outside)
    removed = [entry async for entry in fs.remove(p("alice/tree"), recursive=True)]
    assert "/alice/tree/sub/escape" in {e.path for e in removed}
    assert (outside / "secret.txt").read_text() == "top secret"


async def test_planted_fifo_is_refused_without_hanging(fs: LocalFilesystem) -> None:
    await fs.mkdirs(p("alice"))
    os.mkfifo(fs.root / "alice/pipe")
    with pytest.raises(StorageError) as refused:
        await read_all(fs, p("alice/pipe"))
    assert refused.value.code == errno.EINVAL
    listing = [info async for info in fs.list(p("alice"))]
    assert [(i.name, i.type) for i in listing] == [("pipe", FileType.UNKNOWN)]


async def test_concurrent_creates_of_one_file_never_mix_contents(fs: LocalFilesystem) -> None:
    versions = [bytes([i]) * (2 * BLOCK_SIZE + 17) for i in range(6)]
    await asyncio.gather(*(fs.create(p("alice/shared.bin"), chunks(v)) for v in versions))
    assert await read_all(fs, p("alice/shared.bin")) in versions
    assert os.listdir(fs.root / "alice") == ["shared.bin"]


async def test_concurrent_writers_in_one_directory_all_land(fs: LocalFilesystem) -> None:
    contents = {f"f{i}.bin": os.urandom(BLOCK_SIZE // 3 + i) for i in range(24)}
    await asyncio.gather(
        *(fs.create(p(f"alice/many/{name}"), chunks(data)) for name, data in contents.items()),
        *(fs.mkdirs(p(f"alice/many/sub{i}")) for i in range(8)),
    )
    for name, data in contents.items():
        assert await read_all(fs, p(f"alice/many/{name}")) == data
    assert len([info async for info in fs.list(p("alice/many"))]) == 24 + 8


async def test_concurrent_offset_writes_to_one_file_land_in_place(fs: LocalFilesystem) -> None:
    parts = [os.urandom(BLOCK_SIZE) for _ in range(6)]
    await fs.create(p("alice/resumed.bin"), chunks(b""))
    await asyncio.gather(
        *(
            fs.write(p("alice/resumed.bin"), i * BLOCK_SIZE, BLOCK_SIZE, chunks(part))
            for i, part in enumerate(parts)
        )
    )
    assert await read_all(fs, p("alice/resumed.bin")) == b"".join(parts)
