"""WRITE bodies sent from the file by the kernel (neuro_sdk._file_range_payload), on the
real server, which splices them into its file."""

import os
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

import neuro_sdk
from neuro_sdk._file_range_payload import FileRangePayload

KIB = 1024


async def test_a_range_goes_in_pieces_and_reports_each(
    client: neuro_sdk.Client, remote_dir: URL, tmp_path: Path
) -> None:
    data = os.urandom(3 * 1024 * KIB + 100)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    remote = client.storage._remote
    target = remote.normalize(remote_dir / "target.bin")
    await client.storage.mkdir(remote_dir, parents=True)
    await remote.create(target, data[:100])
    sent: list[int] = []

    length = len(data) - 100
    payload = FileRangePayload(source, 100, length, sent.append, piece=256 * KIB)
    await remote.write(target, 100, length, payload)

    assert sent == [*range(256 * KIB, length, 256 * KIB), length]
    async with remote.open(target) as (_, answer):
        assert await answer.read() == data


async def test_a_file_shorter_than_its_range_fails_the_write(
    client: neuro_sdk.Client, remote_dir: URL, tmp_path: Path
) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(100 * KIB))
    remote = client.storage._remote
    target = remote.normalize(remote_dir / "target.bin")
    await client.storage.mkdir(remote_dir, parents=True)
    await remote.create(target, b"")

    with pytest.raises(aiohttp.ClientOSError, match="Can not write request body") as failure:
        await remote.write(target, 0, 200 * KIB, FileRangePayload(source, 0, 200 * KIB))
    assert "became shorter" in str(failure.value.__cause__)
