"""The permission service on a real database (SQLite, and PostgreSQL when provided)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neuro_platform.db.engine import create_engine
from neuro_platform.db.migrate import upgrade_to_head
from neuro_platform.db.models import Base
from neuro_platform.permissions import (
    Action,
    Permission,
    PermissionDeniedError,
    PermissionRepository,
    PermissionService,
    parse_uri,
)


@pytest.fixture
def service(sessions: async_sessionmaker[AsyncSession]) -> PermissionService:
    return PermissionService(PermissionRepository(sessions), clusters=["default"], orgs=["acme"])


async def test_migrations_create_exactly_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade_to_head(engine)
        await upgrade_to_head(engine)  # a restart must find nothing to do

        def diff(connection: Connection) -> list[object]:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
    finally:
        await engine.dispose()


async def test_owner_passes_stranger_gets_missing_list(service: PermissionService) -> None:
    wanted = [
        Permission.of("storage://default/alice/data", "write"),
        Permission.of("job://default/alice/job-1", "read"),
    ]
    assert await service.check("alice", wanted) == []
    assert await service.check("bob", wanted) == wanted
    with pytest.raises(PermissionDeniedError) as raised:
        await service.require("bob", wanted[:1])
    assert raised.value.missing == (wanted[0],)


async def test_grant_then_revoke(service: PermissionService) -> None:
    read_share = Permission.of("storage://default/alice/shared", "read")
    await service.grant("bob", read_share)
    inside = Permission.of("storage://default/alice/shared/f.txt", "read")
    assert await service.check("bob", [inside]) == []
    assert await service.check("bob", [Permission.of(str(inside.uri), "write")]) != []

    # Granting again replaces the action instead of adding a second row.
    await service.grant("bob", Permission.of("storage://default/alice/shared", "write"))
    assert await service.check("bob", [Permission.of(str(inside.uri), "write")]) == []

    assert await service.revoke("bob", read_share.uri) is True
    assert await service.check("bob", [inside]) == [inside]
    assert await service.revoke("bob", read_share.uri) is False


async def test_roles_are_transitive(service: PermissionService) -> None:
    dataset = Permission.of("storage://default/datasets/imagenet", "read")
    await service.grant("readers", dataset)
    await service.add_to_role("team", "readers")
    await service.add_to_role("carol", "team")
    assert await service.check("carol", [dataset]) == []
    assert await service.check("dave", [dataset]) == [dataset]

    await service.remove_from_role("team", "readers")
    assert await service.check("carol", [dataset]) == [dataset]


async def test_role_membership_cycles_terminate(service: PermissionService) -> None:
    await service.add_to_role("a", "b")
    await service.add_to_role("b", "a")
    await service.grant("b", Permission.of("secret://default/shared", "read"))
    assert await service.check("a", [Permission.of("secret://default/shared/k", "read")]) == []


async def test_tree_from_database(service: PermissionService) -> None:
    await service.grant("bob", Permission.of("storage://default/alice/shared", Action.READ))
    tree = await service.tree("bob", parse_uri("storage://default/alice"))
    assert tree.action is Action.LIST
    assert list(tree.children) == ["shared"]
    assert tree.children["shared"].action is Action.READ
