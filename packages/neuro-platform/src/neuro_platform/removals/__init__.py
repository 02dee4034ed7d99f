"""Removing a user account and everything it had (see `docs/security.md`)."""
