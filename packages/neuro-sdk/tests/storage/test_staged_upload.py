"""Big uploads grow under `<name>.neuro-upload` and are renamed into place (`_transfer.py`)."""

import os
from collections.abc import AsyncIterator
from pathlib import Path

from yarl import URL

import neuro_sdk
from neuro_sdk import Action, Permission

from ..conftest import ClientOf
from .conftest import use_small_chunks


async def test_a_share_of_the_file_alone_still_takes_a_big_upload(
    client_of: ClientOf, tmp_path: Path
) -> None:
    # Hostile to the staging name: bob may write the file but not create files beside it,
    # so his upload grows the file in place instead of failing.
    alice, bob = await client_of("alice"), await client_of("bob")
    use_small_chunks(bob)
    target = URL("storage://default/alice/shared/big.bin")
    await alice.storage.mkdir(target.parent, parents=True)
    await alice.storage.create(target, _once(b"old"))
    await alice.users.share("bob", Permission(target, Action.WRITE))
    data = os.urandom(300_000)
    source = tmp_path / "big.bin"
    source.write_bytes(data)

    await bob.storage.upload_file(URL(source.as_uri()), target)

    async with alice.storage.open(target) as content:
        assert b"".join([chunk async for chunk in content]) == data
    names = [s.name async for s in _listing(alice, target.parent)]
    assert names == ["big.bin"]


async def test_a_finished_big_upload_leaves_no_staging_file(
    client_of: ClientOf, tmp_path: Path
) -> None:
    alice = await client_of("alice")
    use_small_chunks(alice)
    data = os.urandom(300_000)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    await alice.storage.mkdir(URL("storage:up"), parents=True)
    await alice.storage.upload_file(URL(source.as_uri()), URL("storage:up/big.bin"))
    assert [s.name async for s in _listing(alice, URL("storage:up"))] == ["big.bin"]


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _listing(client: neuro_sdk.Client, uri: URL) -> AsyncIterator[neuro_sdk.FileStatus]:
    async with client.storage.list(uri) as entries:
        async for entry in entries:
            yield entry
