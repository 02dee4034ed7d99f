"""The secrets table (migration `0004_resources`): values are stored encrypted only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.models import NAME_LENGTH, Base, UTCDateTime


class SecretRow(Base):
    __tablename__ = "secrets"
    __table_args__ = (
        UniqueConstraint("cluster_name", "org_name", "owner", "key", name="uq_secrets_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    cluster_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # "" means "no org": NULLs would never collide in the unique constraint.
    org_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    owner: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    key: Mapped[str] = mapped_column(String(253))
    # Fernet token of the value; the key never leaves the data dir.
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
