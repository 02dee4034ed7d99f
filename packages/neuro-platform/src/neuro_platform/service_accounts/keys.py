"""Typed application key of the service accounts slice."""

from __future__ import annotations

from aiohttp import web

from .service import ServiceAccountsService

SERVICE_ACCOUNTS = web.AppKey("service_accounts", ServiceAccountsService)
