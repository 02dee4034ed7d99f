"""The database half of a user removal (`removals/purge.py`) on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neuro_platform.auth.users import UserNotFoundError, UserService
from neuro_platform.permissions import PermissionRepository
from neuro_platform.permissions.actions import Action
from neuro_platform.permissions.uris import parse_uri
from neuro_platform.removals.purge import purge_user


async def test_purge_takes_the_users_things_and_leaves_a_similar_name_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    users = UserService(sessions)
    roles = PermissionRepository(sessions)
    for name in ("alice", "alice-x", "bob"):
        await users.add(name, f"{name}-password")
    await roles.add_role("alice/team", created_by="alice")
    await roles.add_role("alice-x/team", created_by="alice-x")
    await roles.add_membership("bob", "alice/team")
    await roles.add_membership("bob", "alice-x/team")
    for holder, uri in (
        ("bob", "storage://default/alice/shared"),  # alice shared with bob
        ("bob", "storage://default/acme/alice/data"),  # ... in an org
        ("bob", "role://alice/team"),
        ("alice", "storage://default/bob/for-alice"),  # bob shared with alice
        ("alice/team", "secret://default/alice/k"),
        # Hostile: a user whose name starts with "alice" keeps everything.
        ("bob", "storage://default/alice-x/shared"),
        ("alice-x", "storage://default/bob/for-alice-x"),
    ):
        await roles.put_grant(holder, parse_uri(uri), Action.READ)

    removed = await purge_user(sessions, "alice", clusters=["default"], orgs=["acme"])

    assert removed.roles == 1
    assert removed.grants == 5
    assert removed.memberships == 1
    assert await users.get("alice") is None
    assert await roles.roles_of("bob") == {"bob", "alice-x/team"}
    assert [str(g.uri) for g in await roles.grants_held_by("bob")] == [
        "storage://default/alice-x/shared"
    ]
    assert [str(g.uri) for g in await roles.grants_held_by("alice-x")] == [
        "storage://default/bob/for-alice-x"
    ]
    assert await roles.is_role("alice-x/team")
    with pytest.raises(UserNotFoundError):
        await purge_user(sessions, "alice", clusters=["default"], orgs=["acme"])
