"""Each cluster's secrets sub-application (`/api/v1/secrets`, then
`/api/v1/clusters/<name>/secrets`, as `/config` advertises) and the service's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..api.cluster_prefix import cluster_prefix
from ..api.keys import PERMISSIONS, SESSIONS, SETTINGS
from ..settings import Settings
from . import handlers
from .cipher import SecretCipher
from .keys import SECRETS, SECRETS_CLUSTER
from .repository import SecretRepository
from .service import SecretsService


def mount_secrets(api: web.Application, settings: Settings) -> None:
    for cluster in settings.clusters:
        prefix = cluster_prefix(settings, cluster) + "/secrets"
        app = web.Application()
        app[SECRETS_CLUSTER] = cluster.name
        app.add_routes(handlers.routes)
        api.add_subapp(prefix, app)


async def secrets_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    cipher = SecretCipher(settings.data_dir / "secrets-key")
    app[SECRETS] = SecretsService(SecretRepository(app[SESSIONS]), cipher, app[PERMISSIONS])
    yield
