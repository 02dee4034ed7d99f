"""A removed account's tokens stop working at once, and never work for a new account of the
same name; tokens from before accounts had ids keep working for the accounts of that time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import jwt
from sqlalchemy import update

from neuro_platform.auth.account_changes import account_changes_path, announce_account_change
from neuro_platform.auth.tokens import ACCOUNT_CLAIM
from neuro_platform.db.engine import create_engine, create_session_factory
from neuro_platform.db.models import UserRow
from neuro_platform.testing import PlatformServer


async def _status(server: PlatformServer, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as client,
        client.get(server.api_url / "users" / "bob", headers=headers) as response,
    ):
        return response.status


def _claimless_token(server: PlatformServer, user: str) -> str:
    """A token as issued before accounts had ids: no account claim."""
    key = bytes.fromhex((server.data_dir / "jwt-signing-key").read_text())
    now = datetime.now(UTC)
    claims = {
        "sub": user,
        "identity": user,
        "https://platform.neuromation.io/user": user,
        "iat": now,
        "exp": now + timedelta(hours=1),
        "jti": "legacy",
    }
    return jwt.encode(claims, key, "HS256")


async def test_removal_by_the_admin_cli_takes_effect_on_the_next_request(
    platform_server: PlatformServer,
) -> None:
    old = platform_server.issue_token("bob")
    # Used first, so the server has bob cached as existing (for CACHE_TTL_S before this fix).
    assert await _status(platform_server, old) == 200
    platform_server.admin("user", "remove", "bob")
    assert await _status(platform_server, old) == 401

    platform_server.create_user("bob", "another-password")
    new = platform_server.issue_token("bob")
    assert await _status(platform_server, new) == 200
    # Hostile: the removed account's token, signed by the server and unexpired, names a user
    # that exists again; it must not act as the new account.
    assert await _status(platform_server, old) == 401
    assert await _status(platform_server, _claimless_token(platform_server, "bob")) == 401


async def test_tokens_without_an_account_id_work_only_for_accounts_from_before_ids(
    platform_server: PlatformServer,
) -> None:
    claimless = _claimless_token(platform_server, "bob")
    assert await _status(platform_server, claimless) == 401  # bob has an account id

    engine = create_engine(platform_server.settings().database_url)
    try:
        async with create_session_factory(engine).begin() as session:
            # What migration 0005 leaves for accounts created before it.
            await session.execute(
                update(UserRow).where(UserRow.name == "bob").values(account_id=None)
            )
    finally:
        await engine.dispose()
    # Changed by another process: announced like the admin CLI announces a removal.
    announce_account_change(account_changes_path(platform_server.data_dir))
    assert await _status(platform_server, claimless) == 200
    # Such an account's new tokens carry no id either, and work.
    fresh = platform_server.issue_token("bob")
    assert ACCOUNT_CLAIM not in jwt.decode(fresh, options={"verify_signature": False})
    assert await _status(platform_server, fresh) == 200
