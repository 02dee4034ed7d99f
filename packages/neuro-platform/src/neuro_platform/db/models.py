"""ORM models of the platform core. Migrations in `migrations/versions` must match them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAME_LENGTH = 253  # role names may be as long as a DNS name
URI_LENGTH = 1024


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the zone of a plain DateTime)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Differs between a removed account and a new one of the same name; its tokens carry it.
    # None for accounts created before ids existed (migration 0005): their tokens have none.
    account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"

    # Only the SHA-256 of the token is stored: a leaked database yields no usable token.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuthorizationCodeRow(Base):
    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(255))
    redirect_uri: Mapped[str] = mapped_column(String(URI_LENGTH))
    code_challenge: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PermissionGrantRow(Base):
    __tablename__ = "permission_grants"
    __table_args__ = (UniqueConstraint("role_name", "uri", name="uq_permission_grants_role_uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    role_name: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    uri: Mapped[str] = mapped_column(String(URI_LENGTH))
    action: Mapped[str] = mapped_column(String(16))


class RoleMembershipRow(Base):
    """`member_name` holds `role_name`: it inherits every grant of that role."""

    __tablename__ = "role_memberships"

    member_name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    role_name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)


class RoleRow(Base):
    """A role created through the users API (`POST /users`), e.g. `alice/team`.

    Roles are not accounts: nobody logs in as one. They hold grants and members."""

    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    created_by: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Slices with tables of their own define their models beside their code; importing them here
# puts them on `Base.metadata`, which the migrations are checked against.
from ..admin_api import models as _admin_api_models  # noqa: E402, F401
from ..buckets import models as _buckets_models  # noqa: E402, F401
from ..disks import models as _disks_models  # noqa: E402, F401
from ..jobs import models as _jobs_models  # noqa: E402, F401
from ..removals import models as _removals_models  # noqa: E402, F401
from ..secrets import models as _secrets_models  # noqa: E402, F401
from ..service_accounts import models as _service_accounts_models  # noqa: E402, F401


class LeadershipRow(Base):
    """The leader's fencing epoch (db/fencing.py): one row, raised by every election won."""

    __tablename__ = "leadership"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    epoch: Mapped[int] = mapped_column(BigInteger)
