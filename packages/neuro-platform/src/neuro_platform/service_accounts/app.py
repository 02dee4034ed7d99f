"""The service accounts sub-application (`/api/v1/service_accounts`); the service is built in
`composition.py`."""

from __future__ import annotations

from aiohttp import web

from . import handlers


def create_service_accounts_app() -> web.Application:
    app = web.Application()
    app.add_routes(handlers.routes)
    return app
