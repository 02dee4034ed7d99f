"""Who is calling: the bearer token (header or `neuro-auth-token` query) of a request."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from ..permissions.cache import PrincipalCache
from .account_changes import AccountChanges
from .tokens import InvalidTokenError, TokenCodec, VerifiedToken
from .users import User, UserService
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
        self,
        codec: TokenCodec,
        users: UserService,
        role_tokens: RoleTokens | None = None,
        account_changes: AccountChanges | None = None,
    ) -> None:
        self._verified_tokens = VerifiedTokens(codec)
        self._users = users
        # Only existing accounts are remembered: a user added elsewhere must not wait out a
        # cached "no". A removal by this process is seen at once (`permissions/cache.py`), one
        # by the admin CLI through `account_changes`.
        self._accounts: PrincipalCache[str, User | None] = PrincipalCache(
            remember=lambda user: user is not None
        )
        self._role_tokens = role_tokens
        self._account_changes = account_changes

    async def user_of(self, token: str) -> str:
        try:
            verified = self._verified_tokens.verify(token)
        except InvalidTokenError as e:
            raise NotAuthenticatedError(f"invalid token: {e}") from e
        if self._account_changes is not None:
            self._account_changes.poll()
        user_name = verified.user_name
        if "/" in user_name:  # user names have no '/': this is a role's token
            if self._role_tokens is None or not await self._role_tokens.is_active(
                user_name, verified.token_id
            ):
                raise NotAuthenticatedError("the token has been revoked")
            await self._check_bound(verified)
            return user_name
        # A removed user's tokens stop working at once, not when they expire.
        account = await self._account(user_name)
        if account is None:
            raise NotAuthenticatedError("the token's user no longer exists")
        if not self._issued_to(verified, account):
            raise NotAuthenticatedError("the token was issued to a removed account of this name")
        await self._check_bound(verified)
        return user_name

    async def _check_bound(self, verified: VerifiedToken) -> None:
        """Raises NotAuthenticatedError when what the token is bound to has ended (a
        job token's job)."""

    def _issued_to(self, verified: VerifiedToken, account: User) -> bool:
        """Whether the token belongs to this account, not to a removed one of the same name.

        Tokens name their account's id; tokens issued before accounts had ids name none and
        are accepted only by accounts from that time (whose id is None): a new account always
        has an id, so no token of a removed account works for it.
        """
        if verified.account_id is not None or account.account_id is None:
            return verified.account_id == account.account_id
        return self._accepts_without_account(verified)

    def _accepts_without_account(self, verified: VerifiedToken) -> bool:
        """Other kinds of token bound to something that ends with the account (a job's)."""
        return False

    async def _account(self, user_name: str) -> User | None:
        async def load() -> User | None:
            return await self._users.get(user_name)

        return await self._accounts.get(user_name, load)

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
