"""Monitoring (docs/protocol.md §4, under `monitoring_url`): logs, top, signals and node
capacity."""
