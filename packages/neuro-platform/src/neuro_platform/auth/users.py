"""User accounts: the repository (SQL) and the service (rules on names and passwords)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import UserRow
from .passwords import DUMMY_HASH, hash_password, verify_password

# Lowercase DNS-label-like names: they appear in URIs, URLs and docker image references.
USER_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MIN_PASSWORD_LENGTH = 8


class UserError(ValueError):
    pass


class UserExistsError(UserError):
    pass


class UserNotFoundError(UserError):
    pass


@dataclass(frozen=True)
class User:
    name: str
    created_at: datetime
    # None only for accounts created before accounts had ids (their tokens carry none).
    account_id: str | None = None


def validate_user_name(name: str) -> None:
    if not USER_NAME_RE.fullmatch(name):
        raise UserError(
            f"invalid user name {name!r}: use 1-63 lowercase letters, digits and inner dashes"
        )


class UserService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, name: str, password: str) -> User:
        validate_user_name(name)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
        row = UserRow(
            name=name,
            password_hash=hash_password(password),
            created_at=datetime.now(UTC),
            account_id=uuid.uuid4().hex,
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError as e:
            raise UserExistsError(f"user {name!r} already exists") from e
        return _to_user(row)

    async def list(self) -> list[User]:
        async with self._sessions() as session:
            rows = await session.scalars(select(UserRow).order_by(UserRow.name))
            return [_to_user(r) for r in rows]

    async def get(self, name: str) -> User | None:
        async with self._sessions() as session:
            row = await session.get(UserRow, name)
            return _to_user(row) if row else None

    async def authenticate(self, name: str, password: str) -> User | None:
        async with self._sessions() as session:
            row = await session.get(UserRow, name)
        if row is None:
            verify_password(DUMMY_HASH, password)
            return None
        return _to_user(row) if verify_password(row.password_hash, password) else None


def _to_user(row: UserRow) -> User:
    return User(name=row.name, created_at=row.created_at, account_id=row.account_id)
