"""Typed keys of a cluster's storage sub-application."""

from __future__ import annotations

from aiohttp import web

from .filesystem import LocalFilesystem
from .quota import StorageQuota

STORAGE_CLUSTER = web.AppKey("storage_cluster", str)
STORAGE_FILESYSTEM = web.AppKey("storage_filesystem", LocalFilesystem)
STORAGE_QUOTA = web.AppKey("storage_quota", StorageQuota)  # absent: no quota
