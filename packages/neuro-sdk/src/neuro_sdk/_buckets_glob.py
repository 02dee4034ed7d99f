"""Glob patterns over blob keys (``Buckets.glob_blobs``), pure functions.

Keys are split on ``/`` like paths: ``*``, ``?`` and ``[...]`` match within one part,
``**`` as a whole part matches any number of parts (none included), as in
``Storage.glob``. Matching is case-sensitive, as keys are.
"""

import re
from collections.abc import Iterator
from fnmatch import translate
from functools import lru_cache

_MAGIC = re.compile(r"[*?\[]")


def has_magic(text: str) -> bool:
    return _MAGIC.search(text) is not None


def literal_prefix(pattern: str) -> str:
    """The key prefix every match starts with: the parts before the first magic one."""
    parts = pattern.split("/")
    literal: list[str] = []
    for part in parts[:-1]:
        if has_magic(part):
            break
        literal.append(part)
    else:
        if not has_magic(parts[-1]):
            return pattern
    return "".join(part + "/" for part in literal)


@lru_cache(maxsize=256)
def _part_regex(part: str) -> re.Pattern[str]:
    return re.compile(translate(part))


def matches(key: str, pattern: str) -> bool:
    """Whether ``key`` (a trailing ``/`` ignored) matches ``pattern``."""
    return _match(key.rstrip("/").split("/"), pattern.rstrip("/").split("/"))


def _match(parts: list[str], patterns: list[str]) -> bool:
    if not patterns:
        return not parts
    head, rest = patterns[0], patterns[1:]
    if head == "**":
        return any(_match(parts[i:], rest) for i in range(len(parts) + 1))
    if not parts or _part_regex(head).fullmatch(parts[0]) is None:
        return False
    return _match(parts[1:], rest)


def ancestors(key: str) -> Iterator[str]:
    """The "folders" a key lies in, outermost first: ``a/b/c`` gives ``a/`` and ``a/b/``."""
    parts = key.rstrip("/").split("/")
    for depth in range(1, len(parts)):
        yield "/".join(parts[:depth]) + "/"
