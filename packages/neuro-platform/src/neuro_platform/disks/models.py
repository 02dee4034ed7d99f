"""The disks table (migration `0004_resources`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.models import NAME_LENGTH, Base, UTCDateTime


class DiskRow(Base):
    __tablename__ = "disks"
    __table_args__ = (
        UniqueConstraint("cluster_name", "org_name", "owner", "name", name="uq_disks_name"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cluster_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    org_name: Mapped[str] = mapped_column(String(NAME_LENGTH))  # "" means "no org"
    owner: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    storage: Mapped[int] = mapped_column(BigInteger)
    used_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_usage: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    life_span_s: Mapped[float | None] = mapped_column(Float, nullable=True)
