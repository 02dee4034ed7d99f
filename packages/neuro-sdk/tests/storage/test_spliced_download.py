"""Big downloads over plain TCP move their body socket → pipe → file with splice(2) (see
neuro_sdk._spliced_body), on the real server."""

import os
from pathlib import Path

from yarl import URL

import neuro_sdk
from neuro_sdk import StorageProgressStep
from neuro_sdk._spliced_body import SplicedBody

from .test_storage_transfers import Recorder, file_uri

MIB = 2**20


async def uploaded(client: neuro_sdk.Client, remote_dir: URL, tmp_path: Path, size: int) -> bytes:
    """Random bytes of `size`, uploaded as `remote_dir/big.bin`."""
    data = os.urandom(size)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    await client.storage.mkdir(remote_dir, parents=True)
    await client.storage.upload_file(file_uri(source), remote_dir / "big.bin")
    return data


async def test_the_body_is_spliced_into_the_file_and_the_client_goes_on(
    client: neuro_sdk.Client, remote_dir: URL, tmp_path: Path
) -> None:
    data = await uploaded(client, remote_dir, tmp_path, 5 * MIB + 3)
    remote = client.storage._remote
    target = tmp_path / "target.bin"
    reports: list[int] = []

    async with remote.open(remote.normalize(remote_dir / "big.bin"), 1000) as (span, answer):
        body = SplicedBody.take(answer)
        assert body is not None, "a plain-TCP answer of known length is taken over"
        with target.open("wb", buffering=0) as file:
            file.write(body.buffered)
            await body.into(file.fileno(), reports.append, MIB)

    assert (span.start, span.total) == (1000, len(data))
    assert target.read_bytes() == data[1000:]
    assert body.moved == body.remaining == len(data) - 1000 - len(body.buffered)
    # A report after each MiB or more, from the worker thread to the event loop.
    gaps = [b - a for a, b in zip([0, *reports], reports, strict=False)]
    assert len(reports) >= 2
    assert min(gaps) >= MIB
    assert reports[-1] <= body.moved
    # The taken-over connection was closed, not handed back: the next request works.
    assert (await client.storage.stat(remote_dir / "big.bin")).size == len(data)


async def test_a_spliced_download_reports_progress_to_the_end(
    client: neuro_sdk.Client, remote_dir: URL, tmp_path: Path
) -> None:
    data = await uploaded(client, remote_dir, tmp_path, 6 * MIB + 12345)
    progress = Recorder()
    target = tmp_path / "target.bin"

    await client.storage.download_file(remote_dir / "big.bin", file_uri(target), progress=progress)

    assert target.read_bytes() == data
    steps = [step.current for step in progress.of(StorageProgressStep)]
    assert steps == sorted(steps)
    assert len(set(steps)) == len(steps)
    assert len(steps) >= 5
    assert steps[-1] == len(data)
