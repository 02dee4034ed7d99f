"""The admin API's tables: cluster users, org users, org clusters (roles, quotas, credits).

Revision ID: 0008_admin
Revises: 0007_buckets
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_admin"
down_revision = "0007_buckets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_cluster_users",
        sa.Column("cluster_name", sa.String(253), primary_key=True),
        sa.Column("org_name", sa.String(253), primary_key=True),
        sa.Column("user_name", sa.String(253), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("max_running_jobs", sa.Integer(), nullable=True),
        sa.Column("credits", sa.String(64), nullable=True),
        sa.Column("spent_at_set", sa.String(64), nullable=False),
    )
    op.create_index("ix_admin_cluster_users_user_name", "admin_cluster_users", ["user_name"])
    op.create_table(
        "admin_org_users",
        sa.Column("org_name", sa.String(253), primary_key=True),
        sa.Column("user_name", sa.String(253), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
    )
    op.create_index("ix_admin_org_users_user_name", "admin_org_users", ["user_name"])
    op.create_table(
        "admin_org_clusters",
        sa.Column("cluster_name", sa.String(253), primary_key=True),
        sa.Column("org_name", sa.String(253), primary_key=True),
        sa.Column("max_running_jobs", sa.Integer(), nullable=True),
        sa.Column("credits", sa.String(64), nullable=True),
        sa.Column("spent_at_set", sa.String(64), nullable=False),
        sa.Column("default_credits", sa.String(64), nullable=True),
        sa.Column("default_max_running_jobs", sa.Integer(), nullable=True),
        sa.Column("default_role", sa.String(16), nullable=False),
        sa.Column("storage_size", sa.Integer(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("admin_org_clusters")
    op.drop_index("ix_admin_org_users_user_name", "admin_org_users")
    op.drop_table("admin_org_users")
    op.drop_index("ix_admin_cluster_users_user_name", "admin_cluster_users")
    op.drop_table("admin_cluster_users")
