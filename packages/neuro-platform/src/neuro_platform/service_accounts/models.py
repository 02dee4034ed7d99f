"""The service accounts table (migration `0004_resources`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.models import NAME_LENGTH, Base, UTCDateTime


class ServiceAccountRow(Base):
    __tablename__ = "service_accounts"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_service_accounts_name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    role: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    default_cluster: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The `jti` of the one token issued at creation: deleting the row revokes it.
    token_id: Mapped[str] = mapped_column(String(64))
