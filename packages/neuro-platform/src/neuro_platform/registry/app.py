"""The `/v2/` routes and the lifetime of the private registry and its garbage collection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from ..api.keys import SETTINGS
from ..background import running_in_background
from . import endpoint
from .gc import collect_loop, registry_files
from .keys import PRIVATE_REGISTRY, UPSTREAM
from .private import PrivateRegistry, connector


def mount_registry(app: web.Application) -> None:
    endpoint.add_routes(app)


async def registry_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    registry = PrivateRegistry(registry_files(settings), settings.registry.binary)
    app[PRIVATE_REGISTRY] = registry
    # No total timeout: a layer may take long; a dead registry is noticed by the connection.
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    await registry.start()
    async with (
        aiohttp.ClientSession(
            connector=connector(registry.files), auto_decompress=False, timeout=timeout
        ) as session,
        running_in_background(registry.supervise(), "private registry"),
        running_in_background(
            collect_loop(registry, settings.registry.gc_interval_s), "registry gc"
        ),
    ):
        app[UPSTREAM] = session
        yield
