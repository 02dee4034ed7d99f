"""Jobs: one JSON document for what the user asked for (`jobs.spec`, see `jobs/codec.py`).

The old `request` document lacked the name, the priority and the life span, which had
columns of their own; they move into the document. `name` and `priority` stay as columns
too (listings filter by the name, the scheduler orders by the priority), written from it.

Revision ID: 0006_job_spec
Revises: 0005_user_removal
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006_job_spec"
down_revision = "0005_user_removal"
branch_labels = None
depends_on = None

# The `priority` column's ranks (`JobPriority.rank`), frozen here as of this revision.
_PRIORITIES = {0: "low", 1: "normal", 2: "high"}
_RANKS = {name: rank for rank, name in _PRIORITIES.items()}

_jobs = sa.table(
    "jobs",
    sa.column("id", sa.String()),
    sa.column("priority", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("max_run_time_minutes", sa.Integer()),
    sa.column("request", sa.JSON()),
    sa.column("spec", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("spec", sa.JSON(), nullable=True))
    connection = op.get_bind()
    c = _jobs.c
    rows = connection.execute(
        sa.select(c.id, c.priority, c.name, c.max_run_time_minutes, c.request)
    ).all()
    for row in rows:
        spec: dict[str, Any] = {
            **row.request,
            "name": row.name,
            "priority": _PRIORITIES[row.priority],
            "max_run_time_minutes": row.max_run_time_minutes,
        }
        connection.execute(_jobs.update().where(_jobs.c.id == row.id).values(spec=spec))
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("spec", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("request")
        batch.drop_column("max_run_time_minutes")


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("request", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("max_run_time_minutes", sa.Integer(), nullable=True))
    connection = op.get_bind()
    for row in connection.execute(sa.select(_jobs.c.id, _jobs.c.spec)).all():
        request = dict(row.spec)
        priority = request.pop("priority")
        request.pop("name")
        life_span = request.pop("max_run_time_minutes")
        connection.execute(
            _jobs.update()
            .where(_jobs.c.id == row.id)
            .values(request=request, max_run_time_minutes=life_span, priority=_RANKS[priority])
        )
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("request", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("spec")
