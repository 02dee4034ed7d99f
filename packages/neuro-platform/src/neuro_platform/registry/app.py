"""The `/v2/` routes; the private registry and its garbage collection run for the server's
life from `composition.py`."""

from __future__ import annotations

from aiohttp import web

from . import endpoint


def mount_registry(app: web.Application) -> None:
    endpoint.add_routes(app)
