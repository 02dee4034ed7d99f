"""Buckets and their credentials (docs/protocol.md §8.4).

Revision ID: 0007_buckets
Revises: 0006_job_spec
"""

import sqlalchemy as sa
from alembic import op

from neuro_platform.db.models import UTCDateTime

revision = "0007_buckets"
down_revision = "0006_job_spec"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "buckets",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("cluster_name", sa.String(253), nullable=False),
        sa.Column("org_name", sa.String(253), nullable=False),
        sa.Column("owner", sa.String(253), nullable=False),
        sa.Column("name", sa.String(64), nullable=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("provider_bucket", sa.String(255), nullable=False),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("external_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("cluster_name", "org_name", "owner", "name", name="uq_buckets_name"),
    )
    op.create_index("ix_buckets_owner", "buckets", ["owner"])
    op.create_table(
        "bucket_credentials",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("cluster_name", sa.String(253), nullable=False),
        sa.Column("owner", sa.String(253), nullable=False),
        sa.Column("name", sa.String(64), nullable=True),
        sa.Column("persistent", sa.Boolean(), nullable=False),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("bucket_ids", sa.Text(), nullable=False),
        sa.Column("store_user", sa.String(128), nullable=False),
        sa.Column("access_key_id", sa.String(128), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("cluster_name", "owner", "name", name="uq_bucket_credentials_name"),
    )
    op.create_index("ix_bucket_credentials_owner", "bucket_credentials", ["owner"])
    op.create_index("ix_bucket_credentials_expires_at", "bucket_credentials", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_bucket_credentials_expires_at", "bucket_credentials")
    op.drop_index("ix_bucket_credentials_owner", "bucket_credentials")
    op.drop_table("bucket_credentials")
    op.drop_index("ix_buckets_owner", "buckets")
    op.drop_table("buckets")
