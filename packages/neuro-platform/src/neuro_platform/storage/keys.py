"""Typed keys of a cluster's storage sub-application."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .filesystem import LocalFilesystem
from .quota import StorageQuota

STORAGE_CLUSTER = web.AppKey("storage_cluster", str)
STORAGE_FILESYSTEM = web.AppKey("storage_filesystem", LocalFilesystem)
STORAGE_QUOTA = web.AppKey("storage_quota", StorageQuota)  # absent: no quota


@dataclass(frozen=True)
class StorageBackend:
    """One cluster's storage as the API serves it (the web console builds its
    `StorageService` from the same filesystem and quota)."""

    cluster_name: str
    filesystem: LocalFilesystem
    quota: StorageQuota | None


# On the root application: every cluster's backend, by cluster name.
STORAGE_BACKENDS = web.AppKey("storage_backends", dict[str, StorageBackend])
