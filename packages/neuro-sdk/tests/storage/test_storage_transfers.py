"""Uploads and downloads of files and trees: checksums, update/continue, ignore files."""

import os
import time
from collections.abc import Callable
from pathlib import Path

from yarl import URL

import neuro_sdk
from neuro_sdk import (
    AbstractRecursiveFileProgress,
    StorageProgressComplete,
    StorageProgressEnterDir,
    StorageProgressFail,
    StorageProgressLeaveDir,
    StorageProgressStart,
    StorageProgressStep,
)

MakeTree = Callable[[Path, dict[str, bytes | None]], Path]
TreeDigest = Callable[[Path], dict[str, str]]


class Recorder(AbstractRecursiveFileProgress):
    def __init__(self) -> None:
        self.events: list[object] = []

    def start(self, data: StorageProgressStart) -> None:
        self.events.append(data)

    def step(self, data: StorageProgressStep) -> None:
        self.events.append(data)

    def complete(self, data: StorageProgressComplete) -> None:
        self.events.append(data)

    def enter(self, data: StorageProgressEnterDir) -> None:
        self.events.append(data)

    def leave(self, data: StorageProgressLeaveDir) -> None:
        self.events.append(data)

    def fail(self, data: StorageProgressFail) -> None:
        self.events.append(data)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [event for event in self.events if isinstance(event, kind)]


def file_uri(path: Path) -> URL:
    return URL(path.as_uri())


async def _read(client: neuro_sdk.Client, uri: URL) -> bytes:
    async with client.storage.open(uri) as content:
        return b"".join([chunk async for chunk in content])


async def test_multi_chunk_file_round_trip_with_progress(
    client: neuro_sdk.Client, remote_dir: URL, tmp_path: Path
) -> None:
    data = os.urandom(1_000_003)  # many 64/96 KiB chunks, and a ragged last one
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    await client.storage.mkdir(remote_dir, parents=True)
    uploaded = Recorder()

    await client.storage.upload_file(file_uri(source), remote_dir / "big.bin", progress=uploaded)
    downloaded = Recorder()
    target = tmp_path / "back.bin"
    await client.storage.download_file(
        remote_dir / "big.bin", file_uri(target), progress=downloaded
    )

    assert target.read_bytes() == data
    assert (await client.storage.stat(remote_dir / "big.bin")).size == len(data)
    for progress in (uploaded, downloaded):
        (start,) = progress.of(StorageProgressStart)
        (complete,) = progress.of(StorageProgressComplete)
        steps = [step.current for step in progress.of(StorageProgressStep)]
        assert start.size == complete.size == len(data)
        assert steps == sorted(steps)
        assert steps[-1] == len(data)
    assert len(uploaded.of(StorageProgressStep)) > 10, "one step per 96 KiB chunk"
    assert uploaded.of(StorageProgressStart)[0].src == file_uri(source)


async def test_tree_with_empty_unicode_and_deep_entries_round_trips(
    client: neuro_sdk.Client,
    remote_dir: URL,
    tmp_path: Path,
    make_tree: MakeTree,
    tree_digest: TreeDigest,
) -> None:
    deep = "/".join(f"level{i}" for i in range(12))
    source = make_tree(
        tmp_path / "src",
        {
            "empty.txt": b"",
            "ünïcødé ñame.txt": "привет".encode(),
            "with space/in dir.bin": os.urandom(200_000),
            "percent%25 and #hash.txt": b"odd",
            f"{deep}/leaf.txt": b"deep",
            "empty dir": None,
            **{f"many/f{i:03}.txt": str(i).encode() for i in range(150)},
        },
    )
    upload = Recorder()
    await client.storage.upload_dir(file_uri(source), remote_dir / "tree", progress=upload)
    download = Recorder()
    target = tmp_path / "dst"
    await client.storage.download_dir(remote_dir / "tree", file_uri(target), progress=download)

    assert tree_digest(target) == tree_digest(source)
    for progress in (upload, download):
        assert len(progress.of(StorageProgressEnterDir)) == len(
            progress.of(StorageProgressLeaveDir)
        )
        assert len(progress.of(StorageProgressComplete)) == 155
        assert progress.of(StorageProgressFail) == []
    first, last = upload.events[0], upload.events[-1]
    assert isinstance(first, StorageProgressEnterDir)
    assert first.src == file_uri(source)
    assert isinstance(last, StorageProgressLeaveDir)
    assert last.src == file_uri(source)


async def test_update_copies_only_newer_files_both_ways(
    client: neuro_sdk.Client, remote_dir: URL, tmp_path: Path, make_tree: MakeTree
) -> None:
    source = make_tree(tmp_path / "src", {"old.txt": b"old v1", "new.txt": b"new v1"})
    await client.storage.upload_dir(file_uri(source), remote_dir)
    past, future = time.time() - 3600, time.time() + 3600
    (source / "old.txt").write_bytes(b"old v2")
    os.utime(source / "old.txt", (past, past))  # changed, but older than the remote copy
    (source / "new.txt").write_bytes(b"new v2")
    os.utime(source / "new.txt", (future, future))

    await client.storage.upload_dir(file_uri(source), remote_dir, update=True)

    assert await _read(client, remote_dir / "old.txt") == b"old v1"
    assert await _read(client, remote_dir / "new.txt") == b"new v2"

    local = tmp_path / "local.txt"
    local.write_bytes(b"local")
    await client.storage.download_file(remote_dir / "old.txt", file_uri(local), update=True)
    assert local.read_bytes() == b"local", "the local file is newer than the remote one"
    os.utime(local, (past, past))
    await client.storage.download_file(remote_dir / "old.txt", file_uri(local), update=True)
    assert local.read_bytes() == b"old v1"


async def test_continue_upload_appends_past_the_remote_end(
    client: neuro_sdk.Client, remote_dir: URL, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    source = tmp_path / "f.bin"
    source.write_bytes(data)
    os.utime(source, (time.time() - 60, time.time() - 60))
    await client.storage.mkdir(remote_dir, parents=True)

    async def prefix() -> object:
        # Different bytes than the local file's start: continue must keep them.
        yield b"X" * 100_000

    await client.storage.create(remote_dir / "f.bin", prefix())  # type: ignore[arg-type]
    progress = Recorder()
    await client.storage.upload_file(
        file_uri(source), remote_dir / "f.bin", continue_=True, progress=progress
    )

    assert await _read(client, remote_dir / "f.bin") == b"X" * 100_000 + data[100_000:]
    steps = [step.current for step in progress.of(StorageProgressStep)]
    assert steps[0] > 100_000, "the transfer started at the remote file's end"

    # A complete, newer remote copy is left alone; an older one is replaced whole.
    await client.storage.upload_file(file_uri(source), remote_dir / "f.bin", continue_=True)
    assert (await client.storage.stat(remote_dir / "f.bin")).size == len(data)
    os.utime(source, (time.time() + 3600, time.time() + 3600))
    await client.storage.upload_file(file_uri(source), remote_dir / "f.bin", continue_=True)
    assert await _read(client, remote_dir / "f.bin") == data


async def test_continue_download_appends_past_the_local_end(
    client: neuro_sdk.Client, remote_dir: URL, tmp_path: Path
) -> None:
    data = os.urandom(250_000)
    source = tmp_path / "src.bin"
    source.write_bytes(data)
    await client.storage.mkdir(remote_dir, parents=True)
    await client.storage.upload_file(file_uri(source), remote_dir / "f.bin")
    target = tmp_path / "partial.bin"
    target.write_bytes(b"Y" * 70_000)

    await client.storage.download_file(remote_dir / "f.bin", file_uri(target), continue_=True)

    assert target.read_bytes() == b"Y" * 70_000 + data[70_000:]


async def test_ignore_files_and_filter_skip_entries(
    client: neuro_sdk.Client,
    remote_dir: URL,
    tmp_path: Path,
    make_tree: MakeTree,
    tree_digest: TreeDigest,
) -> None:
    source = make_tree(
        tmp_path / "src",
        {
            ".neuroignore": b"*.log\n!keep.log\nbuild/\n/top-only.txt\n",
            "a.log": b"",
            "keep.log": b"",
            "top-only.txt": b"",
            "build/out.o": b"",
            "sub/.neuroignore": b"secret.txt\n!a.log\n",
            "sub/secret.txt": b"",
            "sub/a.log": b"re-included by the deeper file",
            "sub/b.log": b"",
            "sub/top-only.txt": b"anchored patterns only apply at their own level",
            "sub/build/x": b"",
            "filtered/x": b"",
            "ok.txt": b"",
        },
    )

    async def not_filtered(relative: str) -> bool:
        return relative != "filtered"

    await client.storage.upload_dir(
        file_uri(source),
        remote_dir,
        filter=not_filtered,
        ignore_file_names={".neuroignore"},
    )
    target = tmp_path / "dst"
    await client.storage.download_dir(remote_dir, file_uri(target))

    assert sorted(tree_digest(target)) == [
        ".neuroignore",
        "keep.log",
        "ok.txt",
        "sub",
        "sub/.neuroignore",
        "sub/a.log",
        "sub/top-only.txt",
    ]
