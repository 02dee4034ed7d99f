"""The database half of a user removal (`removals/purge.py`) on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neuro_platform.auth.grants import (
    CodeRequest,
    GrantService,
    InvalidGrantError,
    pkce_challenge,
)
from neuro_platform.auth.tokens import TokenCodec
from neuro_platform.auth.users import UserNotFoundError, UserService
from neuro_platform.permissions import PermissionRepository
from neuro_platform.permissions.actions import Action
from neuro_platform.permissions.uris import parse_uri
from neuro_platform.removals.purge import purge_user
from neuro_platform.settings import AuthSettings


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


async def test_refresh_tokens_of_a_removed_user_stop_working(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    users = UserService(sessions)
    codec = TokenCodec(b"k" * 32)
    grants = GrantService(sessions, codec, AuthSettings())
    alice = await users.add("alice", "alice-password")
    verifier = "v" * 64
    request = CodeRequest("neuro-cli", "http://127.0.0.1:5000", pkce_challenge(verifier))
    code = await grants.create_code("alice", request)
    issued = await grants.exchange_code(
        code, client_id="neuro-cli", redirect_uri="http://127.0.0.1:5000", code_verifier=verifier
    )
    assert issued.refresh_token is not None
    assert codec.verify_claims(issued.access_token).account_id == alice.account_id
    refreshed = await grants.refresh(issued.refresh_token)
    assert codec.verify_claims(refreshed.access_token).account_id == alice.account_id

    removed = await purge_user(sessions, "alice", clusters=["default"], orgs=[])
    assert removed.refresh_tokens == 1
    await users.add("alice", "new-alice-password")  # hostile: the name exists again
    with pytest.raises(InvalidGrantError):
        await grants.refresh(issued.refresh_token)
