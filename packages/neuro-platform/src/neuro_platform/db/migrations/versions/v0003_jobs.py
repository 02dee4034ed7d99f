"""Jobs: the table the jobs service and the scheduler keep all their state in.

Revision ID: 0003_jobs
Revises: 0002_roles
"""

import sqlalchemy as sa
from alembic import op

from neuro_platform.db.models import UTCDateTime

revision = "0003_jobs"
down_revision = "0002_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(253), nullable=False),
        sa.Column("cluster_name", sa.String(253), nullable=False),
        sa.Column("org_name", sa.String(253), nullable=True),
        sa.Column("name", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("statuses", sa.JSON(), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("max_run_time_minutes", sa.Integer(), nullable=True),
        sa.Column("materialized", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_jobs_owner", "jobs", ["owner"])
    op.create_index("ix_jobs_name", "jobs", ["name"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_created_at", "jobs")
    op.drop_index("ix_jobs_status", "jobs")
    op.drop_index("ix_jobs_name", "jobs")
    op.drop_index("ix_jobs_owner", "jobs")
    op.drop_table("jobs")
