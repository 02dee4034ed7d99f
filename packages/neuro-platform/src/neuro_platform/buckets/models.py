"""The buckets tables (migration `0007_buckets`): secrets are stored encrypted only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.models import NAME_LENGTH, Base, UTCDateTime


class BucketRow(Base):
    __tablename__ = "buckets"
    __table_args__ = (
        UniqueConstraint("cluster_name", "org_name", "owner", "name", name="uq_buckets_name"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cluster_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # "" means "no org"; a NULL name (an anonymous bucket) never collides.
    org_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    owner: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider: Mapped[str] = mapped_column(String(32))
    # The bucket's name in the object store (ours: the id; imported: the user's).
    provider_bucket: Mapped[str] = mapped_column(String(255))
    imported: Mapped[bool] = mapped_column(Boolean)
    public: Mapped[bool] = mapped_column(Boolean)
    # Imported buckets: Fernet token of the JSON {endpoint_url, region_name, access_key_id,
    # secret_access_key} the user gave; None for the platform's own buckets.
    external_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BucketCredentialRow(Base):
    """An identity in the object store: persistent (named, listed) or temporary."""

    __tablename__ = "bucket_credentials"
    __table_args__ = (
        UniqueConstraint("cluster_name", "owner", "name", name="uq_bucket_credentials_name"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cluster_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    owner: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    persistent: Mapped[bool] = mapped_column(Boolean)
    read_only: Mapped[bool] = mapped_column(Boolean)
    # JSON list of bucket ids the identity's policy allows.
    bucket_ids: Mapped[str] = mapped_column(Text)
    store_user: Mapped[str] = mapped_column(String(128))
    access_key_id: Mapped[str] = mapped_column(String(128))
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # Temporary credentials only; the sweeper removes the identity after it.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
