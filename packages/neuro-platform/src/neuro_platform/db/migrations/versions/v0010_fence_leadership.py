"""The leader's fencing epoch: one row that every election won raises (db/fencing.py).

Revision ID: 0010_fence_leadership
Revises: 0009_job_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_fence_leadership"
down_revision = "0009_job_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    leadership = op.create_table(
        "leadership",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(leadership, [{"id": 1, "epoch": 0}])


def downgrade() -> None:
    op.drop_table("leadership")
