"""The part of the composition root that every process of the platform opens.

The server (`composition.build_services`) and the administration commands (`admin.py`) both
start the same way: the data dir, the migrated database, the token codec (the signing key is
read once, here) and the account services built on them. Nothing here needs the container
engine, so `neuro-platform admin` works without dockerd.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .auth.grants import GrantService
from .auth.tokens import TokenCodec, load_or_create_signing_key
from .auth.users import UserService
from .data_dir import prepare_data_dir
from .db.engine import create_engine, create_session_factory
from .db.migrate import upgrade_to_head
from .permissions import PermissionRepository
from .settings import Settings


@dataclass(frozen=True)
class Core:
    sessions: async_sessionmaker[AsyncSession]
    # The one codec of the process: user, service-account and job tokens are signed by it.
    codec: TokenCodec
    users: UserService
    grants: GrantService
    permission_repository: PermissionRepository


@asynccontextmanager
async def open_core(settings: Settings) -> AsyncIterator[Core]:
    """The data dir and database, migrated to the newest schema; the engine is disposed of
    on leaving."""
    prepare_data_dir(settings.data_dir)
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
        sessions = create_session_factory(engine)
        codec = TokenCodec(load_or_create_signing_key(settings.signing_key_path))
        yield Core(
            sessions=sessions,
            codec=codec,
            users=UserService(sessions),
            grants=GrantService(sessions, codec, settings.auth),
            permission_repository=PermissionRepository(sessions),
        )
    finally:
        await engine.dispose()
