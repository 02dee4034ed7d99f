"""A page of `/v2/_catalog` reads the private catalog only as far as it takes to fill it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from neuro_platform.registry.endpoint import catalog_page


class Catalog:
    """A private catalog of many repositories that counts the names read from it."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[str]:
        for name in self.names:
            self.read += 1
            yield name


def alice_reads(name: str) -> bool:
    return name.startswith("alice/")


async def test_a_page_reads_up_to_the_name_after_it_and_no_further() -> None:
    # Bob's and alice's repositories alternate: alice reads every other one.
    names = [f"default/{owner}/r{i:05}" for i in range(5000) for owner in ("alice", "bob")]
    catalog = Catalog(names)

    page, more = await catalog_page(aiter(catalog), "default/", alice_reads, 3)

    assert page == ["alice/r00000", "alice/r00001", "alice/r00002"]
    assert more
    assert catalog.read == 7  # the fourth of alice's says another page follows


async def test_the_last_page_stops_at_the_end_of_the_cluster() -> None:
    names = ["default/alice/a", "default/bob/b", "default/alice/c", "other/alice/d"]
    catalog = Catalog([*names, *(f"other/alice/{i}" for i in range(1000))])

    page, more = await catalog_page(aiter(catalog), "default/", alice_reads, 3)

    assert (page, more) == (["alice/a", "alice/c"], False)
    assert catalog.read == 4  # another cluster's first name ends it


async def test_without_a_size_the_page_is_every_readable_name() -> None:
    catalog = Catalog(["default/alice/a", "default/bob/b", "default/alice/c"])
    assert await catalog_page(aiter(catalog), "default/", alice_reads, None) == (
        ["alice/a", "alice/c"],
        False,
    )
