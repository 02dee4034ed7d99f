"""Application keys of the registry slice."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from .private import PrivateRegistry

PRIVATE_REGISTRY = web.AppKey("private_registry", PrivateRegistry)
# Talks to the private registry only; bodies pass through undecoded.
UPSTREAM = web.AppKey("registry_upstream", aiohttp.ClientSession)
