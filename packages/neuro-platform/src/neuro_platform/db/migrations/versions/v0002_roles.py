"""Roles created through the users API (`POST /api/v1/users`).

Revision ID: 0002_roles
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

from neuro_platform.db.models import UTCDateTime

revision = "0002_roles"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roles",
        sa.Column("name", sa.String(253), primary_key=True),
        sa.Column("created_by", sa.String(253), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("roles")
