"""The buckets service with its object store, for `composition.py`: the embedded SeaweedFS
(stopped on leaving, if it was ever started) or the configured endpoint, and the loop that
removes expired temporary credentials."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..background import running_in_background
from ..permissions import PermissionService
from ..secrets.cipher import SecretCipher
from ..settings import Settings
from .endpoints import EndpointPolicy
from .repository import BucketRepository
from .seaweed import EmbeddedSeaweed, S3Access, SeaweedFiles
from .service import BucketsService
from .store import ObjectStore

log = logging.getLogger(__name__)


@asynccontextmanager
async def open_buckets(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    permissions: PermissionService,
    cipher: SecretCipher,
) -> AsyncIterator[BucketsService]:
    config = settings.buckets
    async with AsyncExitStack() as stack:
        store: ObjectStore | None = None
        public = config.public_endpoint_url
        if not config.enabled:
            pass
        elif config.endpoint_url is not None:
            assert config.access_key_id is not None
            assert config.secret_access_key is not None
            external = S3Access(
                config.endpoint_url,
                config.region,
                config.access_key_id,
                config.secret_access_key,
            )

            async def given() -> S3Access:
                return external

            store = ObjectStore(given, lambda: True)
        else:
            seaweed = EmbeddedSeaweed(
                SeaweedFiles(settings.data_dir / "buckets"),
                config.binary,
                s3_host(settings),
                config.s3_port,
            )
            stack.push_async_callback(seaweed.close)
            store = ObjectStore(seaweed.access, lambda: seaweed.started)
        service = BucketsService(
            BucketRepository(sessions),
            store,
            cipher,
            permissions,
            public_endpoint=str(public) if public else None,
            tmp_ttl_s=config.tmp_credentials_ttl_s,
            orgs_of={c.name: c.orgs for c in settings.clusters},
            import_endpoints=EndpointPolicy(config.import_allowed_hosts),
        )
        if store is not None:
            interval = min(30.0, config.tmp_credentials_ttl_s / 4)
            await stack.enter_async_context(
                running_in_background(_sweep_forever(service, interval), "bucket-credentials")
            )
        yield service


def s3_host(settings: Settings) -> str:
    """ "auto": the address jobs reach the API at, when it is an IP (the engine bridge's
    gateway: containers reach it, and so does the host), else loopback."""
    configured = settings.buckets.s3_host
    if configured != "auto":
        return configured
    url = settings.jobs.api_url
    if url is not None and url.host:
        try:
            ipaddress.ip_address(url.host)
            return url.host
        except ValueError:
            pass
    return "127.0.0.1"


async def _sweep_forever(service: BucketsService, interval_s: float) -> None:
    while True:
        try:
            await service.sweep_expired()
            if service.store_running():
                # A revoke by another process (a second server), or one whose follow-up failed.
                await service.end_lost_access()
        except Exception:  # the store may be restarting; the next pass retries
            log.exception("removing expired bucket credentials failed")
        await asyncio.sleep(interval_s)
