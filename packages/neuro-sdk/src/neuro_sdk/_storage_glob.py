"""Client-side glob over LISTSTATUS (docs/protocol.md §5): ``*``, ``?``, ``[..]`` and ``**``.

As in the original SDK (and Python's ``glob(recursive=True)``): a last ``**`` is the
directory itself and everything below it, files included; ``**`` followed by more of the
pattern is the directory and every directory below it. A name starting with a dot is
matched only by a pattern starting with a dot, and ``**`` never descends into one.

Matches come back in the form the pattern was written in (``storage:dir/**`` gives
``storage:dir/a.txt``, ``storage://cluster/...`` the long form), as the original's do; a
pattern without wildcards comes back as it is, and the directory before the first wildcard
must exist (FileNotFoundError, NotADirectoryError otherwise).
"""

import errno
import fnmatch
import re
from collections.abc import AsyncIterator, Awaitable, Callable

from yarl import URL

from ._errors import ResourceNotFound
from ._storage_entities import FileStatus

_MAGIC = re.compile(r"[*?\[]")

Lister = Callable[[URL], AsyncIterator[FileStatus]]
Stater = Callable[[URL], Awaitable[FileStatus | None]]


def has_magic(text: str) -> bool:
    return _MAGIC.search(text) is not None


def _name_matches(name: str, pattern: str) -> bool:
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, pattern)


class Globber:
    def __init__(self, list_dir: Lister, stat: Stater) -> None:
        self._list = list_dir
        self._stat = stat

    async def glob(self, uri: URL, *, dironly: bool) -> AsyncIterator[URL]:
        if not has_magic(uri.path):
            yield uri
            return
        parts = [part for part in uri.path.split("/") if part]
        first_magic = next(i for i, part in enumerate(parts) if has_magic(part))
        # Relative (`storage:dir/*`) stays relative: the matches keep the pattern's form.
        root = "/" if uri.path.startswith("/") else ""
        base = URL.build(
            scheme=uri.scheme, host=uri.host or "", path=root + "/".join(parts[:first_magic])
        )
        # As the original, whose listing of it fails: the part before the wildcards must be
        # a directory (an empty result would hide a mistyped path).
        status = await self._stat(base)
        if status is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(base))
        if not status.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(base))
        async for found in self._expand(base, parts[first_magic:], dironly):
            yield found

    async def _expand(self, base: URL, patterns: list[str], dironly: bool) -> AsyncIterator[URL]:
        if not patterns:
            status = await self._stat(base)
            if status is not None and (status.is_dir() or not dironly):
                yield base
            return
        head, rest = patterns[0], patterns[1:]
        if head == "**":
            async for entry in self._walk(base, dironly=bool(rest) or dironly):
                if rest:
                    async for found in self._expand(entry, rest, dironly):
                        yield found
                else:
                    yield entry
            return
        if not has_magic(head):
            async for found in self._expand(base / head, rest, dironly):
                yield found
            return
        for status in await self._children(base):
            if not _name_matches(status.name, head):
                continue
            if rest:
                if status.is_dir():
                    async for found in self._expand(base / status.name, rest, dironly):
                        yield found
            elif status.is_dir() or not dironly:
                yield base / status.name

    async def _walk(self, base: URL, *, dironly: bool) -> AsyncIterator[URL]:
        """``base`` (if a directory) and, depth first, every entry below it that is not a
        dot name or inside one; only directories with ``dironly``."""
        status = await self._stat(base)
        if status is None or not status.is_dir():
            return
        yield base
        async for entry in self._below(base, dironly=dironly):
            yield entry

    async def _below(self, directory: URL, *, dironly: bool) -> AsyncIterator[URL]:
        for child in await self._children(directory):
            if child.name.startswith(".") or (dironly and not child.is_dir()):
                continue
            uri = directory / child.name
            yield uri
            if child.is_dir():
                async for entry in self._below(uri, dironly=dironly):
                    yield entry

    async def _children(self, directory: URL) -> list[FileStatus]:
        try:
            return sorted([s async for s in self._list(directory)], key=lambda s: s.name)
        except (ResourceNotFound, FileNotFoundError, NotADirectoryError):
            return []
