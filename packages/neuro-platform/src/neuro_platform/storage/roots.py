"""Where each cluster's storage lives: a rule of its own, for the admin commands (which move a
removed user's folders) need it without the storage web application."""

from __future__ import annotations

from pathlib import Path

from ..settings import Settings


def storage_root(settings: Settings, cluster_name: str) -> Path:
    """Where a cluster's storage lives on this machine (job volumes mount from here too)."""
    return (settings.storage.root or settings.data_dir / "storage") / cluster_name
