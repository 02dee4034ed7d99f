"""Tar bundles of small files, for our server's CREATETAR and OPENTAR storage operations.

A tree of thousands of small files costs one request per file with the plain protocol; a
bundle carries up to a few hundred of one directory's files in one request. Both helpers do
all of their disk work in one call, meant for one worker thread per bundle.
"""

import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

# tarfile (with the compression modules it loads) costs ~15 ms to import, and a copy of
# one file never bundles: pack and unpack import it when a tree transfer first needs it.

T = TypeVar("T")


class BundleLimits(Protocol):
    @property
    def bundle_files(self) -> int: ...

    @property
    def bundle_bytes(self) -> int: ...


def split(
    items: Sequence[T], size_of: Callable[[T], int], limits: BundleLimits
) -> Iterator[list[T]]:
    """The items in order, cut into bundles within both limits (an item over the byte limit
    still makes a bundle of its own)."""
    bundle: list[T] = []
    total = 0
    for item in items:
        size = size_of(item)
        if bundle and (len(bundle) >= limits.bundle_files or total + size > limits.bundle_bytes):
            yield bundle
            bundle, total = [], 0
        bundle.append(item)
        total += size
    if bundle:
        yield bundle


def pack(files: Sequence[tuple[str, Path]]) -> tuple[bytes, dict[str, int]]:
    """A tar of the local files under their names, and each file's size as read."""
    import tarfile

    buffer = io.BytesIO()
    sizes: dict[str, int] = {}
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, path in files:
            content = path.read_bytes()
            member = tarfile.TarInfo(name)
            member.size = sizes[name] = len(content)
            archive.addfile(member, io.BytesIO(content))
    return buffer.getvalue(), sizes


def unpack(archive: bytes, targets: Mapping[str, Path]) -> dict[str, int]:
    """Writes each wanted regular file of the tar to its target; returns the sizes written.

    Members the caller did not ask for, and anything but regular files, are ignored: the
    names come from the server, the paths only from ``targets``.
    """
    import tarfile

    written: dict[str, int] = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        for member in tar:
            target = targets.get(member.name)
            if target is None or not member.isreg() or member.name in written:
                continue
            extracted = tar.extractfile(member)
            if extracted is None:
                continue
            content = extracted.read()
            target.write_bytes(content)
            written[member.name] = len(content)
    return written
