"""OAuth2 grants: single-use PKCE authorization codes and revocable refresh tokens.

Both are random secrets handed to the client once; only their SHA-256 is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import AuthorizationCodeRow, RefreshTokenRow, UserRow
from ..settings import AuthSettings
from .tokens import TokenCodec

SECRET_BYTES = 32


class InvalidGrantError(ValueError):
    """OAuth2 `invalid_grant`: the code or refresh token is unknown, used, expired or revoked."""


@dataclass(frozen=True)
class CodeRequest:
    """What the authorize request bound the code to; the token request must repeat it."""

    client_id: str
    redirect_uri: str
    code_challenge: str


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    expires_in: int
    refresh_token: str | None = None


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class GrantService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        codec: TokenCodec,
        settings: AuthSettings,
    ) -> None:
        self._sessions = sessions
        self._codec = codec
        self._settings = settings

    async def create_code(self, user_name: str, request: CodeRequest) -> str:
        code = secrets.token_urlsafe(SECRET_BYTES)
        async with self._sessions.begin() as session:
            session.add(
                AuthorizationCodeRow(
                    code_hash=_digest(code),
                    user_name=user_name,
                    client_id=request.client_id,
                    redirect_uri=request.redirect_uri,
                    code_challenge=request.code_challenge,
                    expires_at=datetime.now(UTC)
                    + timedelta(seconds=self._settings.authorization_code_ttl_s),
                )
            )
        return code

    async def exchange_code(
        self, code: str, *, client_id: str, redirect_uri: str, code_verifier: str
    ) -> TokenResponse:
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            # Marking the code used in the same UPDATE that checks it makes reuse impossible
            # even when two exchanges race.
            result = await session.execute(
                update(AuthorizationCodeRow)
                .where(
                    AuthorizationCodeRow.code_hash == _digest(code),
                    AuthorizationCodeRow.used_at.is_(None),
                    AuthorizationCodeRow.expires_at > now,
                )
                .values(used_at=now)
                .returning(AuthorizationCodeRow)
            )
            row = result.scalar_one_or_none()
        if row is None:
            raise InvalidGrantError("authorization code is invalid, expired or already used")
        if row.client_id != client_id or row.redirect_uri != redirect_uri:
            raise InvalidGrantError("client_id or redirect_uri differs from the authorize request")
        if not hmac.compare_digest(pkce_challenge(code_verifier), row.code_challenge):
            raise InvalidGrantError("code_verifier does not match the code_challenge")
        return await self._tokens_for(row.user_name, with_refresh=True)

    async def refresh(self, refresh_token: str) -> TokenResponse:
        now = datetime.now(UTC)
        async with self._sessions() as session:
            row = await session.scalar(
                select(RefreshTokenRow).where(
                    RefreshTokenRow.token_hash == _digest(refresh_token),
                    RefreshTokenRow.revoked_at.is_(None),
                    RefreshTokenRow.expires_at > now,
                )
            )
        if row is None:
            raise InvalidGrantError("refresh token is invalid, expired or revoked")
        return await self._tokens_for(row.user_name, with_refresh=False)

    async def revoke_refresh_tokens(self, user_name: str) -> int:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(RefreshTokenRow)
                .where(RefreshTokenRow.user_name == user_name, RefreshTokenRow.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def _tokens_for(self, user_name: str, *, with_refresh: bool) -> TokenResponse:
        async with self._sessions() as session:
            user = await session.get(UserRow, user_name)
        if user is None:  # removed since the code or refresh token was handed out
            raise InvalidGrantError("the user no longer exists")
        ttl = self._settings.access_token_ttl_s
        access = self._codec.issue(user_name, timedelta(seconds=ttl), account_id=user.account_id)
        if not with_refresh:
            return TokenResponse(access_token=access.token, expires_in=ttl)
        refresh = secrets.token_urlsafe(SECRET_BYTES)
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            session.add(
                RefreshTokenRow(
                    token_hash=_digest(refresh),
                    user_name=user_name,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self._settings.refresh_token_ttl_s),
                )
            )
        return TokenResponse(access_token=access.token, expires_in=ttl, refresh_token=refresh)
