"""Typed application key of the admin API slice."""

from __future__ import annotations

from aiohttp import web

from .service import AdminService

ADMIN = web.AppKey("admin", AdminService)
