"""Which files a recursive upload skips: ignore files with .gitignore semantics.

An ignore file (say ``.neuroignore``) in a directory applies to everything below that
directory, its patterns relative to it; a deeper ignore file overrides a shallower one for
the paths it has an opinion on, and ``!pattern`` re-includes, as in git. Matching itself is
pathspec's ``GitIgnoreSpec``.
"""

from collections.abc import Set
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
