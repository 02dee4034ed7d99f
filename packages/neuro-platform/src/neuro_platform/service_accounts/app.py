"""The service accounts sub-application (`/api/v1/service_accounts`) and its service.

Its context must run before the jobs context, which rebuilds the authenticator and carries
`role_tokens` over."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..api.keys import AUTHENTICATOR, SESSIONS, SETTINGS
from ..auth.tokens import TokenCodec, load_or_create_signing_key
from ..permissions import PermissionRepository
from . import handlers
from .keys import SERVICE_ACCOUNTS
from .repository import ServiceAccountRepository
from .service import ServiceAccountsService


def create_service_accounts_app() -> web.Application:
    app = web.Application()
    app.add_routes(handlers.routes)
    return app


async def service_accounts_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    repository = ServiceAccountRepository(app[SESSIONS])
    app[AUTHENTICATOR].role_tokens = repository
    app[SERVICE_ACCOUNTS] = ServiceAccountsService(
        repository,
        PermissionRepository(app[SESSIONS]),
        TokenCodec(load_or_create_signing_key(settings.signing_key_path)),
        tuple(c.name for c in settings.clusters),
        settings.public_url / "api" / "v1",
    )
    yield
