"""Service accounts (wire spec 8.3): roles with one revocable token each."""
