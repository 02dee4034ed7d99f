"""docs/protocol.md is the protocol the code's comments cite: every cited section exists.

Comments say `docs/protocol.md §N` (a rule of the project); a renumbered or missing section
would leave them pointing at nothing, which no other check notices.
"""

from __future__ import annotations

import re
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]
PROTOCOL = REPOSITORY / "docs" / "protocol.md"
CODE_FOLDERS = ("packages", "benchmarks", "scripts")
CODE_SUFFIXES = frozenset({".py", ".sh", ".md", ".toml"})
# `## 3. Jobs`, `### 3.4 What ...`: the number of each section.
_HEADING = re.compile(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", re.MULTILINE)
_CITATION = re.compile(r"docs/protocol\.md §(\d+(?:\.\d+)*)")
# The sections of the original protocol's description, which the code cited before this
# document existed: their numbers must keep their meaning.
EXPECTED_SECTIONS = frozenset(
    ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    + [f"2.{n}" for n in range(1, 8)]
    + [f"3.{n}" for n in range(1, 6)]
    + [f"4.{n}" for n in range(1, 4)]
    + [f"8.{n}" for n in range(1, 5)]
)


def _sections() -> set[str]:
    return set(_HEADING.findall(PROTOCOL.read_text()))


def _code_files() -> list[Path]:
    return [
        path
        for folder in CODE_FOLDERS
        for path in (REPOSITORY / folder).rglob("*")
        if path.suffix in CODE_SUFFIXES and ".venv" not in path.parts and path.is_file()
    ]


def test_protocol_has_every_section_of_the_original_numbering() -> None:
    assert _sections() == EXPECTED_SECTIONS


def test_every_cited_section_exists() -> None:
    sections = _sections()
    dangling = {
        f"{path.relative_to(REPOSITORY)}: §{number}"
        for path in _code_files()
        for number in _CITATION.findall(path.read_text(errors="replace"))
        if number not in sections
    }
    assert dangling == set()


def test_a_citation_of_a_missing_section_is_found() -> None:
    # The hostile case: the pattern must catch a citation of a section that does not exist.
    # (Split, so that this file does not cite a missing section itself.)
    text = "see docs/protocol.md" + " §4.7, and docs/protocol.md" + " §9."
    assert _CITATION.findall(text) == ["4.7", "9"]
    assert "4.7" not in _sections()


def test_nothing_cites_the_outside_spec() -> None:
    # The protocol's description lives in the repository; a comment naming the document it
    # was first gathered in points at nothing a reader has. (Split, not to match itself.)
    outside = re.compile("wire" + r"[- ]spec", re.IGNORECASE)
    citing = {
        str(path.relative_to(REPOSITORY))
        for path in _code_files()
        if outside.search(path.read_text(errors="replace"))
    }
    assert citing == set()
