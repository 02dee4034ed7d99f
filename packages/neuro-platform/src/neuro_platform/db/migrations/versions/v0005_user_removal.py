"""Account ids (tokens of a removed account stop working for a new one) and user removals.

Revision ID: 0005_user_removal
Revises: 0004_resources
"""

import sqlalchemy as sa
from alembic import op

from neuro_platform.db.models import UTCDateTime

revision = "0005_user_removal"
down_revision = "0004_resources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing accounts keep a NULL id: their tokens, issued without one, stay valid.
    op.add_column("users", sa.Column("account_id", sa.String(64), nullable=True))
    op.create_table(
        "user_removals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_name", sa.String(253), nullable=False),
        sa.Column("removed_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("jobs_ended", sa.Integer(), nullable=True),
        sa.Column("disks_removed", sa.Integer(), nullable=True),
    )
    op.create_index("ix_user_removals_user_name", "user_removals", ["user_name"])


def downgrade() -> None:
    op.drop_index("ix_user_removals_user_name", "user_removals")
    op.drop_table("user_removals")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("account_id")
