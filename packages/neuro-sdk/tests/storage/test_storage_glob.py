"""``Storage.glob`` as the original SDK's (issue #16), against the real server: matches come
back in the form the pattern was written in, and a last ``**`` lists files too."""

from collections.abc import AsyncIterator

import pytest
from yarl import URL

import neuro_sdk


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _glob(client: neuro_sdk.Client, pattern: URL) -> list[URL]:
    async with client.storage.glob(pattern) as uris:
        return [uri async for uri in uris]


@pytest.fixture
async def tree(client: neuro_sdk.Client, remote_dir: URL) -> URL:
    for name in ["a.txt", "sub/b.txt", ".dot/c.txt"]:
        uri = remote_dir / name
        await client.storage.mkdir(uri.parent, parents=True, exist_ok=True)
        await client.storage.create(uri, _chunks(b"x"))
    return remote_dir


async def test_short_patterns_give_short_uris(client: neuro_sdk.Client, tree: URL) -> None:
    assert str(tree).startswith("storage:tests/")
    assert await _glob(client, tree / "**") == [
        tree,
        tree / "a.txt",
        tree / "sub",
        tree / "sub" / "b.txt",
    ]
    assert await _glob(client, tree / "*" / "*.txt") == [tree / "sub" / "b.txt"]


async def test_long_patterns_give_long_uris(client: neuro_sdk.Client, tree: URL) -> None:
    long = client.parse.normalize_uri(tree)
    assert long.host == "default"
    assert await _glob(client, long / "*.txt") == [long / "a.txt"]
    absolute = URL(f"storage:{long.path}")  # storage:/alice/tests/...: absolute in the cluster
    assert await _glob(client, absolute / "s?b") == [absolute / "sub"]


async def test_a_pattern_without_wildcards_comes_back_as_it_is(
    client: neuro_sdk.Client, tree: URL
) -> None:
    # As the original: no listing, so a missing path is the caller's next error.
    assert await _glob(client, tree / "missing.txt") == [tree / "missing.txt"]


async def test_the_directory_before_the_wildcards_must_exist(
    client: neuro_sdk.Client, tree: URL
) -> None:
    # The original fails listing it; an empty answer would hide a mistyped path.
    with pytest.raises(FileNotFoundError):
        await _glob(client, tree / "missing" / "**")
    with pytest.raises(NotADirectoryError):
        await _glob(client, tree / "a.txt" / "*")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("secret:keys/*", "Invalid scheme 'secret:'"),
        ("storage:a%2F..%2F..%2Fbob/*", "an encoded '/'"),
        ("storage:x/*?q=1", "Query part is not allowed"),
    ],
)
async def test_hostile_patterns_are_refused_before_any_request(
    client: neuro_sdk.Client, pattern: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await _glob(client, URL(pattern))
