"""Client-side glob over LISTSTATUS (docs/protocol.md §5): ``*``, ``?``, ``[..]`` and ``**``.

``**`` is the directory itself and every directory below it. A name starting with a dot
is matched only by a pattern starting with a dot, as in a shell.
"""

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
        parts = [part for part in uri.path.split("/") if part]
        first_magic = next((i for i, part in enumerate(parts) if has_magic(part)), len(parts))
        base = URL.build(
            scheme=uri.scheme, host=uri.host or "", path="/" + "/".join(parts[:first_magic])
        )
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
            async for directory in self._walk_dirs(base):
                async for found in self._expand(directory, rest, dironly):
                    yield found
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
                    async for found in self._expand(status.uri, rest, dironly):
                        yield found
            elif status.is_dir() or not dironly:
                yield status.uri

    async def _walk_dirs(self, base: URL) -> AsyncIterator[URL]:
        status = await self._stat(base)
        if status is None or not status.is_dir():
            return
        pending = [base]
        while pending:
            directory = pending.pop()
            yield directory
            children = await self._children(directory)
            pending.extend(
                child.uri
                for child in reversed(children)
                if child.is_dir() and not child.name.startswith(".")
            )

    async def _children(self, directory: URL) -> list[FileStatus]:
        try:
            return sorted([s async for s in self._list(directory)], key=lambda s: s.name)
        except (ResourceNotFound, FileNotFoundError, NotADirectoryError):
            return []
