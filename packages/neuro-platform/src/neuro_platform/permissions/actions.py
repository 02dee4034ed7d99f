"""Permission actions and their order: deny < list < read < write < manage."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    DENY = "deny"
    LIST = "list"
    READ = "read"
    WRITE = "write"
    MANAGE = "manage"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def satisfies(self, required: Action) -> bool:
        return self is not Action.DENY and self.rank >= required.rank


_RANKS = {action: rank for rank, action in enumerate(Action)}


def parse_action(text: str) -> Action:
    try:
        return Action(text)
    except ValueError:
        raise ValueError(f"unknown action {text!r}") from None
