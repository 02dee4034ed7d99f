"""Administration that works on the database directly, with or without a running server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from .auth.grants import GrantService
from .auth.tokens import IssuedToken, TokenCodec, load_or_create_signing_key
from .auth.users import User, UserNotFoundError, UserService
from .data_dir import prepare_data_dir
from .db.engine import create_engine, create_session_factory
from .db.migrate import upgrade_to_head
from .jobs.privileged import PRIVILEGED_ACTION, privileged_uri
from .permissions import PermissionRepository, parse_uri
from .settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Admin:
    settings: Settings
    users: UserService
    grants: GrantService
    codec: TokenCodec
    permissions: PermissionRepository

    async def add_user(self, name: str, password: str) -> User:
        return await self.users.add(name, password)

    async def list_users(self) -> list[User]:
        return await self.users.list()

    async def remove_user(self, name: str) -> None:
        await self.users.remove(name)

    async def issue_token(self, name: str, ttl_s: int | None) -> IssuedToken:
        if await self.users.get(name) is None:
            raise UserNotFoundError(f"user {name!r} does not exist")
        ttl = ttl_s if ttl_s is not None else self.settings.auth.access_token_ttl_s
        return self.codec.issue(name, timedelta(seconds=ttl))

    async def revoke_refresh_tokens(self, name: str) -> int:
        return await self.grants.revoke_refresh_tokens(name)

    async def grant_privileged(self, name: str, cluster: str) -> None:
        """Lets user NAME run privileged jobs on CLUSTER (if the cluster allows them)."""
        if await self.users.get(name) is None:
            raise UserNotFoundError(f"user {name!r} does not exist")
        uri = parse_uri(privileged_uri(cluster))
        await self.permissions.put_grant(name, uri, PRIVILEGED_ACTION)

    async def revoke_privileged(self, name: str, cluster: str) -> bool:
        """False when the user held no such grant."""
        return await self.permissions.delete_grant(name, parse_uri(privileged_uri(cluster)))


@asynccontextmanager
async def open_admin(settings: Settings) -> AsyncIterator[Admin]:
    prepare_data_dir(settings.data_dir)
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
        sessions = create_session_factory(engine)
        codec = TokenCodec(load_or_create_signing_key(settings.signing_key_path))
        yield Admin(
            settings=settings,
            users=UserService(sessions),
            grants=GrantService(sessions, codec, settings.auth),
            codec=codec,
            permissions=PermissionRepository(sessions),
        )
    finally:
        await engine.dispose()


def run_admin(settings: Settings, action: Callable[[Admin], Awaitable[T]]) -> T:
    """Runs one administrative action on a fresh event loop (the CLI's and tests' entry)."""

    async def run() -> T:
        async with open_admin(settings) as admin:
            return await action(admin)

    return asyncio.run(run())
