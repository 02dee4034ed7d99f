"""Who is calling: the bearer token (header or `neuro-auth-token` query) of a request."""

from __future__ import annotations

from aiohttp import web

from .tokens import InvalidTokenError, TokenCodec
from .users import UserService

TOKEN_QUERY_PARAMETER = "neuro-auth-token"


class NotAuthenticatedError(Exception):
    """The error middleware answers 401 for this."""


def request_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query.get(TOKEN_QUERY_PARAMETER) or None


class Authenticator:
    def __init__(self, codec: TokenCodec, users: UserService) -> None:
        self._codec = codec
        self._users = users

    async def user_of(self, token: str) -> str:
        try:
            user_name = self._codec.verify(token)
        except InvalidTokenError as e:
            raise NotAuthenticatedError(f"invalid token: {e}") from e
        # A removed user's tokens stop working at once, not when they expire.
        if await self._users.get(user_name) is None:
            raise NotAuthenticatedError("the token's user no longer exists")
        return user_name

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
