"""Secrets, disks and service accounts.

Revision ID: 0004_resources
Revises: 0003_jobs
"""

import sqlalchemy as sa
from alembic import op

from neuro_platform.db.models import UTCDateTime

revision = "0004_resources"
down_revision = "0003_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secrets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("cluster_name", sa.String(253), nullable=False),
        sa.Column("org_name", sa.String(253), nullable=False),
        sa.Column("owner", sa.String(253), nullable=False),
        sa.Column("key", sa.String(253), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("cluster_name", "org_name", "owner", "key", name="uq_secrets_key"),
    )
    op.create_index("ix_secrets_owner", "secrets", ["owner"])
    op.create_table(
        "disks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("cluster_name", sa.String(253), nullable=False),
        sa.Column("org_name", sa.String(253), nullable=False),
        sa.Column("owner", sa.String(253), nullable=False),
        sa.Column("name", sa.String(64), nullable=True),
        sa.Column("storage", sa.BigInteger(), nullable=False),
        sa.Column("used_bytes", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_usage", UTCDateTime(), nullable=True),
        sa.Column("life_span_s", sa.Float(), nullable=True),
        sa.UniqueConstraint("cluster_name", "org_name", "owner", "name", name="uq_disks_name"),
    )
    op.create_index("ix_disks_owner", "disks", ["owner"])
    op.create_table(
        "service_accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(253), nullable=False),
        sa.Column("name", sa.String(64), nullable=True),
        sa.Column("role", sa.String(253), nullable=False, unique=True),
        sa.Column("default_cluster", sa.String(253), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("owner", "name", name="uq_service_accounts_name"),
    )
    op.create_index("ix_service_accounts_owner", "service_accounts", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_service_accounts_owner", "service_accounts")
    op.drop_table("service_accounts")
    op.drop_index("ix_disks_owner", "disks")
    op.drop_table("disks")
    op.drop_index("ix_secrets_owner", "secrets")
    op.drop_table("secrets")
