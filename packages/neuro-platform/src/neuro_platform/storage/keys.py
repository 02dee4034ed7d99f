"""Typed keys of a cluster's storage sub-application."""

from __future__ import annotations

from aiohttp import web

from .filesystem import LocalFilesystem

STORAGE_CLUSTER = web.AppKey("storage_cluster", str)
STORAGE_FILESYSTEM = web.AppKey("storage_filesystem", LocalFilesystem)
