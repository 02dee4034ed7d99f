"""Typed application keys of the secrets slice."""

from __future__ import annotations

from aiohttp import web

from .service import SecretsService

SECRETS = web.AppKey("secrets", SecretsService)
SECRETS_CLUSTER = web.AppKey("secrets_cluster", str)
