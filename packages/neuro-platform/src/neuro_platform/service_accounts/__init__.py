"""Service accounts (docs/protocol.md §8.3): roles with one revocable token each."""
