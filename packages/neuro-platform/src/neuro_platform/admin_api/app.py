"""The admin API sub-application (`/api/v1/admin`, the `admin_url` of `/config`); the service
is built in `composition.py`."""

from __future__ import annotations

from aiohttp import web

from . import handlers

PREFIX = "/admin"


def create_admin_app() -> web.Application:
    app = web.Application()
    app.add_routes(handlers.routes)
    return app
