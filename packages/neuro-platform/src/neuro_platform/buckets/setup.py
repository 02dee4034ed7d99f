"""The buckets service with its object store, for `composition.py`: the embedded SeaweedFS
(stopped on leaving, if it was ever started) or the configured endpoint, and the loop that
removes expired temporary credentials."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

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
# Past the expiry, so that `expires_at <= now` holds when the sweep looks.
_EXPIRY_SLACK_S = 0.01


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
    """Expired credentials are removed at their expiry: the loop sleeps until the first one
    (or until new ones are made, which may expire sooner), at most `interval_s`, which
    bounds how late a revoke by another process is applied (`end_lost_access`, which reads
    every credential: once per interval, not at every wake-up)."""
    loop = asyncio.get_running_loop()
    checked_access_at = -interval_s
    while True:
        delay = interval_s
        try:
            await service.sweep_expired()
            if service.store_running():
                if loop.time() - checked_access_at >= interval_s:
                    # A revoke by another process (a second server), or one whose follow-up
                    # failed.
                    await service.end_lost_access()
                    checked_access_at = loop.time()
                first = await service.next_expiry()
                if first is not None:
                    until = (first - datetime.now(UTC)).total_seconds() + _EXPIRY_SLACK_S
                    delay = min(interval_s, max(until, _EXPIRY_SLACK_S))
        except Exception:  # the store may be restarting; the next pass retries
            log.exception("removing expired bucket credentials failed")
        await service.wait_for_new_credentials(delay)
