"""Secrets (docs/protocol.md §8.1): encrypted at rest, readable only by jobs that mount them."""
