"""Administration that works on the database directly, with or without a running server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .admin_api.entities import ClusterRole, ClusterUser, Credits, Quota
from .admin_api.repository import AdminRepository
from .auth.account_changes import account_changes_path, announce_account_change
from .auth.grants import GrantService
from .auth.tokens import IssuedToken, TokenCodec
from .auth.users import User, UserNotFoundError, UserService
from .core import open_core
from .jobs.privileged import PRIVILEGED_ACTION, privileged_uri
from .permissions import PermissionRepository, parse_uri
from .removals.models import UserRemovalRow
from .removals.purge import move_storage_folders, purge_user
from .removals.report import RemovalReport, ServerOutcome
from .settings import Settings
from .storage.roots import storage_root

T = TypeVar("T")

# How long `user remove` waits for a running server to end the user's jobs and disks.
DEFAULT_REMOVAL_WAIT_S = 10.0
_REMOVAL_POLL_S = 0.05


@dataclass(frozen=True)
class Admin:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    users: UserService
    grants: GrantService
    codec: TokenCodec
    permissions: PermissionRepository

    async def add_user(self, name: str, password: str) -> User:
        return await self.users.add(name, password)

    async def list_users(self) -> list[User]:
        return await self.users.list()

    async def remove_user(
        self, name: str, *, wait_s: float = DEFAULT_REMOVAL_WAIT_S
    ) -> RemovalReport:
        """Removes the account and all it had (`removals/purge.py`), tells a running server
        at once, and waits up to `wait_s` for it to end the jobs and destroy the disks."""
        settings = self.settings
        records = await purge_user(
            self.sessions,
            name,
            clusters=[c.name for c in settings.clusters],
            orgs=settings.all_orgs,
        )
        # After the commit, so a server that notices the change reads the removal.
        announce_account_change(account_changes_path(settings.data_dir))
        folders = move_storage_folders(
            [storage_root(settings, c.name) for c in settings.clusters],
            settings.all_orgs,
            name,
            records.removed_at,
        )
        if records.unfinished_jobs or records.disks:
            server = await self._server_outcome(records.removal_id, wait_s)
        else:  # nothing to wait for (the server still checks, in case a job raced in)
            server = ServerOutcome(jobs_ended=0, disks_removed=0)
        return RemovalReport(name, records, tuple(folders), server)

    async def _server_outcome(self, removal_id: int, wait_s: float) -> ServerOutcome | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            async with self.sessions() as session:
                row = await session.get(UserRemovalRow, removal_id)
            if row is not None and row.done_at is not None:
                return ServerOutcome(row.jobs_ended or 0, row.disks_removed or 0)
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(_REMOVAL_POLL_S)

    async def issue_token(self, name: str, ttl_s: int | None) -> IssuedToken:
        user = await self.users.get(name)
        if user is None:
            raise UserNotFoundError(f"user {name!r} does not exist")
        ttl = ttl_s if ttl_s is not None else self.settings.auth.access_token_ttl_s
        return self.codec.issue(name, timedelta(seconds=ttl), account_id=user.account_id)

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

    async def set_cluster_role(self, name: str, cluster: str, role: ClusterRole) -> None:
        """Gives user NAME a role in CLUSTER (the way to the first admin of the admin API);
        their quota and credits stay as they were."""
        if await self.users.get(name) is None:
            raise UserNotFoundError(f"user {name!r} does not exist")
        repository = AdminRepository(self.sessions)
        current = await repository.cluster_user(cluster, None, name)
        if current is None:
            quota = Quota(self.settings.jobs.max_running_jobs_per_user)
            current = ClusterUser(cluster, name, None, role, quota, Credits())
        await repository.put_cluster_user(replace(current, role=role))


@asynccontextmanager
async def open_admin(settings: Settings) -> AsyncIterator[Admin]:
    """The server's own start-up (`core.py`), without the container engine."""
    async with open_core(settings) as core:
        yield Admin(
            settings=settings,
            sessions=core.sessions,
            users=core.users,
            grants=core.grants,
            codec=core.codec,
            permissions=core.permission_repository,
        )


def run_admin(settings: Settings, action: Callable[[Admin], Awaitable[T]]) -> T:
    """Runs one administrative action on a fresh event loop (the CLI's and tests' entry)."""

    async def run() -> T:
        async with open_admin(settings) as admin:
            return await action(admin)

    return asyncio.run(run())
