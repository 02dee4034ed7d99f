"""Platform core: users, refresh tokens, authorization codes, permission grants, roles.

Revision ID: 0001_core
Revises:
"""

import sqlalchemy as sa
from alembic import op

from neuro_platform.db.models import UTCDateTime

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(253), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_name",
            sa.String(253),
            sa.ForeignKey("users.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_refresh_tokens_user_name", "refresh_tokens", ["user_name"])
    op.create_table(
        "authorization_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_name",
            sa.String(253),
            sa.ForeignKey("users.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("redirect_uri", sa.String(1024), nullable=False),
        sa.Column("code_challenge", sa.String(255), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "permission_grants",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("role_name", sa.String(253), nullable=False),
        sa.Column("uri", sa.String(1024), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.UniqueConstraint("role_name", "uri", name="uq_permission_grants_role_uri"),
    )
    op.create_index("ix_permission_grants_role_name", "permission_grants", ["role_name"])
    op.create_table(
        "role_memberships",
        sa.Column("member_name", sa.String(253), primary_key=True),
        sa.Column("role_name", sa.String(253), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("role_memberships")
    op.drop_index("ix_permission_grants_role_name", "permission_grants")
    op.drop_table("permission_grants")
    op.drop_table("authorization_codes")
    op.drop_index("ix_refresh_tokens_user_name", "refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_table("users")
