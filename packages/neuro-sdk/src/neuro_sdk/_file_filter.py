"""Which files a recursive upload skips: ignore files with .gitignore semantics, and the
original SDK's ``FileFilter`` of include/exclude rules.

An ignore file (say ``.neuroignore``) in a directory applies to everything below that
directory, its patterns relative to it; a deeper ignore file overrides a shallower one for
the paths it has an opinion on, and ``!pattern`` re-includes, as in git. Matching itself is
pathspec's ``GitIgnoreSpec``.
"""

import re
from collections.abc import Awaitable, Callable, Set
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec


@dataclass(frozen=True)
class _ScopedSpec:
    base: str  # the directory of the ignore file, relative to the upload root ("" = root)
    spec: "GitIgnoreSpec"


@dataclass(frozen=True)
class IgnoreRules:
    """The ignore files in effect for one directory of an upload (outermost first)."""

    scoped: tuple[_ScopedSpec, ...] = ()

    def entering(self, directory: Path, relative: str, file_names: Set[str]) -> "IgnoreRules":
        """The rules for ``directory`` (``relative`` to the root): these plus its own files."""
        added: list[_ScopedSpec] = []
        for name in sorted(file_names):
            ignore_file = directory / name
            if ignore_file.is_file():
                # pathspec costs ~20 ms to import: only uploads with ignore files pay it.
                from pathspec import GitIgnoreSpec

                lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                added.append(_ScopedSpec(relative, GitIgnoreSpec.from_lines(lines)))
        return IgnoreRules((*self.scoped, *added)) if added else self

    def is_ignored(self, relative: str, *, is_dir: bool) -> bool:
        # The deepest ignore file with an opinion wins, like git's precedence.
        for scoped in reversed(self.scoped):
            if scoped.base:
                if not relative.startswith(scoped.base + "/"):
                    continue
                inner = relative[len(scoped.base) + 1 :]
            else:
                inner = relative
            result = scoped.spec.check_file(inner + "/" if is_dir else inner)
            if result.include is not None:
                return bool(result.include)
        return False


# -- FileFilter: the original SDK's public filter (``Storage.upload_dir(filter=...)``) ------

AsyncFilterFunc = Callable[[str], Awaitable[bool]]


async def _always_match(path: str) -> bool:
    return True


def _segment_regex(segment: str) -> str:
    """One path component of a glob: ``*`` and ``?`` never cross ``/``; ``[...]`` is a class."""
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        i += 1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and _class_end(segment, i) > 0:
            end = _class_end(segment, i)
            body = segment[i:end]
            i = end + 1
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _class_end(segment: str, start: int) -> int:
    """The index of the ``]`` closing a class opened just before ``start``; -1 if none.
    A ``]`` right after ``[`` or ``[!`` belongs to the class."""
    i = start
    if segment[i : i + 1] == "!":
        i += 1
    if segment[i : i + 1] == "]":
        i += 1
    return segment.find("]", i)


def glob_to_regex(pattern: str) -> str:
    """A regex for a ``/``-separated glob in which a ``**`` component is any depth."""
    components = pattern.split("/")
    out: list[str] = []
    for index, component in enumerate(components):
        last = index == len(components) - 1
        if component == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
        else:
            out.append(_segment_regex(component) + ("" if last else "/"))
    return "".join(out)


class FileFilter:
    """Include/exclude rules with .gitignore-like patterns; the last matching rule wins and
    ``default`` decides a path that no rule matches.

    A pattern without an inner ``/`` matches at any depth; ``prefix`` limits a rule to paths
    under it and ``prefix2`` is put in its place before matching (both end with ``/``).
    """

    def __init__(self, default: AsyncFilterFunc = _always_match) -> None:
        self.filters: list[tuple[bool, str, str, Callable[[str], object]]] = []
        self.default = default

    def read_from_buffer(self, data: bytes, prefix: str = "", prefix2: str = "") -> None:
        """Rules of an ignore file: ``#`` comments, ``!pattern`` re-includes."""
        for line in data.decode("utf-8-sig").split("\n"):
            line = line.removesuffix("\r")
            if not line or line.startswith("#"):
                continue
            line = _strip_unescaped_trailing_spaces(line)
            if line.startswith("!"):
                self.include(line[1:], prefix=prefix, prefix2=prefix2)
            else:
                self.exclude(line, prefix=prefix, prefix2=prefix2)

    def read_from_file(self, path: Path, prefix: str = "", prefix2: str = "") -> None:
        self.read_from_buffer(path.read_bytes(), prefix, prefix2)

    def append(self, exclude: bool, pattern: str, prefix: str = "", prefix2: str = "") -> None:
        for value in (prefix, prefix2):
            if value and not value.endswith("/"):
                raise ValueError(f"A filter prefix must end with '/': {value!r}")
        # Without an inner "/" a pattern matches at any depth; with one, from the root.
        inner_slash = "/" in pattern.rstrip("/")
        pattern = pattern.lstrip("/") if inner_slash else "**/" + pattern
        matcher = re.compile(glob_to_regex(pattern), re.DOTALL).fullmatch
        self.filters.append((exclude, prefix, prefix2, matcher))

    def exclude(self, pattern: str, prefix: str = "", prefix2: str = "") -> None:
        self.append(True, pattern, prefix=prefix, prefix2=prefix2)

    def include(self, pattern: str, prefix: str = "", prefix2: str = "") -> None:
        self.append(False, pattern, prefix=prefix, prefix2=prefix2)

    async def match(self, path: str) -> bool:
        """Whether ``path`` (relative, ``/``-separated; a directory ends with ``/``) is kept."""
        for exclude, prefix, prefix2, matcher in reversed(self.filters):
            if path.startswith(prefix) and matcher(prefix2 + path[len(prefix) :]):
                return not exclude
        return await self.default(path)


def _strip_unescaped_trailing_spaces(line: str) -> str:
    stripped = line.rstrip(" ")
    # "a\ " keeps its escaped space, as in .gitignore.
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped[:-1] + " "
    return stripped
