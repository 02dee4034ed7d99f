"""Who is calling: the bearer token (header or `neuro-auth-token` query) of a request."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from ..permissions.cache import PrincipalCache
from .tokens import InvalidTokenError, TokenCodec
from .users import UserService
from .verified_tokens import VerifiedTokens

TOKEN_QUERY_PARAMETER = "neuro-auth-token"


class NotAuthenticatedError(Exception):
    """The error middleware answers 401 for this."""


def request_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query.get(TOKEN_QUERY_PARAMETER) or None


class RoleTokens(Protocol):
    """Tokens issued to roles (service accounts, `alice/service-accounts/ci`): each is valid
    only while its issuer still lists it, so deleting the account revokes it at once."""

    async def is_active(self, role_name: str, token_id: str) -> bool: ...


class Authenticator:
    def __init__(
        self, codec: TokenCodec, users: UserService, role_tokens: RoleTokens | None = None
    ) -> None:
        self._verified_tokens = VerifiedTokens(codec)
        self._users = users
        # Only "exists" is remembered: a user added elsewhere must not wait out a cached "no".
        # See `permissions/cache.py` for when a removal is noticed.
        self._existing_users: PrincipalCache[str, bool] = PrincipalCache(remember=bool)
        self.role_tokens = role_tokens

    async def user_of(self, token: str) -> str:
        try:
            verified = self._verified_tokens.verify(token)
        except InvalidTokenError as e:
            raise NotAuthenticatedError(f"invalid token: {e}") from e
        user_name = verified.user_name
        if "/" in user_name:  # user names have no '/': this is a role's token
            if self.role_tokens is None or not await self.role_tokens.is_active(
                user_name, verified.token_id
            ):
                raise NotAuthenticatedError("the token has been revoked")
            return user_name
        # A removed user's tokens stop working at once, not when they expire.
        if not await self._user_exists(user_name):
            raise NotAuthenticatedError("the token's user no longer exists")
        return user_name

    async def _user_exists(self, user_name: str) -> bool:
        async def load() -> bool:
            return await self._users.get(user_name) is not None

        return await self._existing_users.get(user_name, load)

    async def optional_user(self, request: web.Request) -> str | None:
        token = request_token(request)
        if token is None:
            return None
        try:
            return await self.user_of(token)
        except NotAuthenticatedError:
            return None

    async def required_user(self, request: web.Request) -> str:
        token = request_token(request)
        if token is None:
            raise NotAuthenticatedError("no bearer token given")
        return await self.user_of(token)
