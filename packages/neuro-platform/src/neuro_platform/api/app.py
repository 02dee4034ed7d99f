"""Builds the aiohttp application from settings; resources live in cleanup contexts."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..auth.account_changes import AccountChanges, account_changes_path
from ..auth.grants import GrantService
from ..auth.identity import Authenticator
from ..auth.login_throttle import LoginThrottle
from ..auth.tokens import TokenCodec, load_or_create_signing_key
from ..auth.users import UserService
from ..data_dir import prepare_data_dir
from ..db.engine import create_engine, create_session_factory
from ..db.migrate import upgrade_to_head
from ..disks.app import disks_context, mount_disks
from ..jobs.app import create_jobs_app, jobs_context
from ..permissions import PermissionRepository, PermissionService, SharingService
from ..proxy import legacy
from ..proxy.app import create_proxy_app
from ..registry.app import mount_registry, registry_context
from ..removals.app import removals_context
from ..secrets.app import mount_secrets, secrets_context
from ..service_accounts.app import create_service_accounts_app, service_accounts_context
from ..settings import Settings
from ..storage.app import mount_storage
from . import config_handler, oauth_handler, openapi, users_handler
from .errors import error_middleware
from .keys import (
    AUTHENTICATOR,
    GRANTS,
    LOGIN_THROTTLE,
    PERMISSIONS,
    SESSIONS,
    SETTINGS,
    SHARING,
    USERS,
)

READ_BUFFER_SIZE = 1024 * 1024


def create_app(settings: Settings) -> web.Application:
    # A 1 MiB read buffer (aiohttp's default is 64 KiB) lets uploads stream in fewer, larger
    # chunks: measured ~155 -> ~225 MiB/s for storage uploads on loopback.
    app = web.Application(
        middlewares=[error_middleware], handler_args={"read_bufsize": READ_BUFFER_SIZE}
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_services)
    # Before jobs_context: jobs read secrets and disks, and rebuild the authenticator.
    app.cleanup_ctx.append(service_accounts_context)
    app.cleanup_ctx.append(secrets_context)
    app.cleanup_ctx.append(disks_context)
    app.cleanup_ctx.append(jobs_context)
    app.cleanup_ctx.append(removals_context)  # ends removed users' jobs, destroys their disks
    app.cleanup_ctx.append(registry_context)

    # Handlers read services through `request.config_dict`, which sees this app's keys, and
    # the root middleware wraps the sub-apps' handlers too.
    api = web.Application()
    api.add_routes(config_handler.routes)
    api.add_routes(openapi.routes)
    api.add_routes(users_handler.routes)
    mount_storage(api, settings)
    mount_secrets(api, settings)
    mount_disks(api, settings)
    api.add_subapp("/service_accounts", create_service_accounts_app())
    api.add_subapp("/jobs", create_jobs_app())
    app.add_subapp("/api/v1", api)
    # Job hosts first, whatever the path: a job's pages never share the platform's origin.
    app.add_domain(f"*.{settings.jobs.http_domain}", create_proxy_app())
    app.add_subapp(f"/{legacy.PREFIX}", legacy.create_legacy_redirect_app())
    mount_registry(app)  # /v2/ on the platform's own origin: docs/protocol.md §6

    oauth = web.Application()
    oauth.add_routes(oauth_handler.routes)
    app.add_subapp("/oauth", oauth)
    return app


async def _services(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    prepare_data_dir(settings.data_dir)
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
        sessions = create_session_factory(engine)
        codec = TokenCodec(load_or_create_signing_key(settings.signing_key_path))
        users = UserService(sessions)
        app[SESSIONS] = sessions
        app[USERS] = users
        app[GRANTS] = GrantService(sessions, codec, settings.auth)
        app[LOGIN_THROTTLE] = LoginThrottle(settings.auth.login_failures)
        app[AUTHENTICATOR] = Authenticator(
            codec, users, account_changes=AccountChanges(account_changes_path(settings.data_dir))
        )
        permission_repository = PermissionRepository(sessions)
        app[PERMISSIONS] = PermissionService(
            permission_repository,
            clusters=[c.name for c in settings.clusters],
            orgs=settings.all_orgs,
        )
        app[SHARING] = SharingService(app[PERMISSIONS], permission_repository)
        yield
    finally:
        await engine.dispose()
