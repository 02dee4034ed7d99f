"""Typed application keys of the buckets slice."""

from __future__ import annotations

from aiohttp import web

from .service import BucketsService

BUCKETS = web.AppKey("buckets", BucketsService)
BUCKETS_CLUSTER = web.AppKey("buckets_cluster", str)
