"""The caches of identity and permissions: exact for this process's changes, bounded by a TTL
for other processes' changes (`permissions/cache.py`)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neuro_platform.auth.identity import Authenticator, NotAuthenticatedError
from neuro_platform.auth.tokens import InvalidTokenError, TokenCodec
from neuro_platform.auth.users import UserService
from neuro_platform.auth.verified_tokens import VerifiedTokens
from neuro_platform.permissions import Permission, PermissionRepository, PermissionService
from neuro_platform.permissions.cache import CACHE_TTL_S, ChangeCounter, PrincipalCache
from neuro_platform.removals.purge import purge_user
from neuro_platform.testing import PlatformServer

READ_ALICES_DATA = [Permission.of("storage://default/alice/data", "read")]


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_grant_and_role_changes_through_any_repository_count_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = PermissionService(PermissionRepository(sessions), clusters=["default"], orgs=[])
    # Another repository on the same database, as the service accounts keep one of their own.
    elsewhere = PermissionRepository(sessions)
    assert await service.check("bob", READ_ALICES_DATA) == READ_ALICES_DATA  # now cached

    await elsewhere.add_role("alice/team", created_by="alice")
    await elsewhere.put_grant("alice/team", READ_ALICES_DATA[0].uri, READ_ALICES_DATA[0].action)
    await elsewhere.add_membership("bob", "alice/team")
    assert await service.check("bob", READ_ALICES_DATA) == []

    await elsewhere.remove_role("alice/team")
    assert await service.check("bob", READ_ALICES_DATA) == READ_ALICES_DATA


async def test_user_removal_and_creation_in_this_process_count_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    users = UserService(sessions)
    codec = TokenCodec(b"k" * 32)
    authenticator = Authenticator(codec, users)
    bob = await users.add("bob", "bob-password")
    bob_token = codec.issue("bob", timedelta(hours=1), account_id=bob.account_id).token
    assert await authenticator.user_of(bob_token) == "bob"  # now cached

    await purge_user(sessions, "bob", clusters=["default"], orgs=[])
    with pytest.raises(NotAuthenticatedError, match="no longer exists"):
        await authenticator.user_of(bob_token)

    # "No such user" is never cached: a user created afterwards is let in at once.
    with pytest.raises(NotAuthenticatedError, match="no longer exists"):
        await authenticator.user_of(codec.issue("carol", timedelta(hours=1)).token)
    carol = await users.add("carol", "carol-password")
    carol_token = codec.issue("carol", timedelta(hours=1), account_id=carol.account_id).token
    assert await authenticator.user_of(carol_token) == "carol"


async def test_a_user_removed_by_the_admin_cli_is_refused_within_the_ttl(
    platform_server: PlatformServer,
) -> None:
    headers = {"Authorization": f"Bearer {platform_server.issue_token('bob')}"}
    url = platform_server.api_url / "users" / "bob"
    async with aiohttp.ClientSession() as client:
        async with client.get(url, headers=headers) as response:
            assert response.status == 200  # bob's existence is now cached by the server

        # Another process; it announces the change, so the next request sees it (this test
        # only asks that it is seen within the TTL; test_account_tokens.py asks for at once).
        platform_server.admin("user", "remove", "bob")
        # Asked again until refused, for as long as the TTL (and a margin) allows.
        deadline = time.monotonic() + CACHE_TTL_S + 0.5
        while True:
            async with client.get(url, headers=headers) as response:
                if response.status == 401 or time.monotonic() > deadline:
                    break
            await asyncio.sleep(0.1)
        assert response.status == 401


async def test_cached_answers_expire_after_the_ttl() -> None:
    clock = ManualClock()
    cache: PrincipalCache[str, int] = PrincipalCache(
        ttl_s=5.0, changes=ChangeCounter(), clock=clock
    )
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        return loads

    assert await cache.get("bob", load) == 1
    clock.now += 4.9
    assert await cache.get("bob", load) == 1
    clock.now += 0.2
    assert await cache.get("bob", load) == 2


async def test_an_answer_loaded_while_a_change_commits_is_used_once_only() -> None:
    changes = ChangeCounter()
    cache: PrincipalCache[str, str] = PrincipalCache(changes=changes)
    answers = iter(["before the change", "after the change"])

    async def load_during_a_change() -> str:
        answer = next(answers)
        changes.bump()  # a grant commits while this answer is being loaded
        return answer

    assert await cache.get("bob", load_during_a_change) == "before the change"
    assert await cache.get("bob", load_during_a_change) == "after the change"


async def test_a_remembered_token_is_refused_once_it_expires() -> None:
    codec = TokenCodec(b"k" * 32)
    clock = ManualClock()
    token = codec.issue("bob", timedelta(seconds=60)).token
    tokens = VerifiedTokens(codec, clock=clock)
    clock.now = time.time()
    assert tokens.verify(token).user_name == "bob"
    clock.now += 61
    with pytest.raises(InvalidTokenError):
        tokens.verify(token)
    with pytest.raises(InvalidTokenError):
        tokens.verify(token[:-2] + "xx")  # a forged signature is never taken from the cache
