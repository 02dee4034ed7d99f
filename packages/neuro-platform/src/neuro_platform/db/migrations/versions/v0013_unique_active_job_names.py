"""Jobs: a name is unique among its owner's unfinished jobs, in the database.

The submission checked for an unfinished job of the same name, then inserted, so submissions
racing past the check (in one process, or in several sharing a PostgreSQL database) could
both land. A partial unique index on (owner, name) over the unfinished jobs refuses the
second one (`JobRepository.insert`).

Should the race have left duplicates, the newest of each keep their names in their specs
(what users see) and lose them in the `name` column, which only lookups by name read: the
oldest answers to the name, as it did.

Revision ID: 0013_unique_active_job_names
Revises: 0012_disk_writers
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_unique_active_job_names"
down_revision = "0012_disk_writers"
branch_labels = None
depends_on = None

# As of this revision (`ACTIVE_STATUSES`, `jobs/models.py`).
_UNFINISHED_NAMED = "name IS NOT NULL AND status IN ('pending', 'suspended', 'running')"

_jobs = sa.table(
    "jobs",
    sa.column("id", sa.String()),
    sa.column("owner", sa.String()),
    sa.column("name", sa.String()),
    sa.column("created_at", sa.DateTime()),
)


def upgrade() -> None:
    bind = op.get_bind()
    c = _jobs.c
    rows = bind.execute(
        sa.select(c.id, c.owner, c.name)
        .where(sa.text(_UNFINISHED_NAMED))
        .order_by(c.created_at, c.id)
    )
    seen: set[tuple[str, str]] = set()
    newer: list[str] = []
    for job_id, owner, name in rows:
        if (owner, name) in seen:
            newer.append(job_id)
        seen.add((owner, name))
    if newer:
        bind.execute(sa.update(_jobs).where(c.id.in_(newer)).values(name=None))
    op.create_index(
        "ix_jobs_unfinished_owner_name",
        "jobs",
        ["owner", "name"],
        unique=True,
        sqlite_where=sa.text(_UNFINISHED_NAMED),
        postgresql_where=sa.text(_UNFINISHED_NAMED),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_unfinished_owner_name", "jobs")
