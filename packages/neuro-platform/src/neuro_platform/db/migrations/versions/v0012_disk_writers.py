"""Disks: the job that last claimed each disk read-write (`disk_writers`), so that the database
refuses a second writer of a disk, whichever server process the submissions reach
(`jobs/volume_access.py`). Before, a lock in each process did, which two processes sharing a
PostgreSQL database (docs/scale-out.md) did not share.

A claim holds while its job is unfinished. The disks that jobs unfinished at the upgrade
write are claimed here, from their specs, so that they stay held from the first start on.
Should two of them write one disk (the race this revision closes), the older job gets the
claim: a new writer then waits for it, not for the other.

Revision ID: 0012_disk_writers
Revises: 0011_pg_refresh_writer_xid
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012_disk_writers"
down_revision = "0011_pg_refresh_writer_xid"
branch_labels = None
depends_on = None

# The unfinished statuses (`ACTIVE_STATUSES`), frozen here as of this revision.
_UNFINISHED = ("pending", "suspended", "running")

_jobs = sa.table(
    "jobs",
    sa.column("id", sa.String()),
    sa.column("status", sa.String()),
    sa.column("created_at", sa.DateTime()),
    sa.column("spec", sa.JSON()),
)


def upgrade() -> None:
    disk_writers = op.create_table(
        "disk_writers",
        sa.Column("disk_id", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("disk_id"),
    )
    c = _jobs.c
    rows = op.get_bind().execute(
        sa.select(c.id, c.spec).where(c.status.in_(_UNFINISHED)).order_by(c.created_at, c.id)
    )
    claims: dict[str, str] = {}
    for job_id, spec in rows:
        for volume in _disk_volumes(spec):
            # A disk id is resolved at submission; a volume without one names no disk.
            if not volume.get("read_only", True) and volume.get("disk_id"):
                claims.setdefault(volume["disk_id"], job_id)
    if claims:
        op.bulk_insert(disk_writers, [{"disk_id": d, "job_id": j} for d, j in claims.items()])


def _disk_volumes(spec: dict[str, Any]) -> list[dict[str, Any]]:
    volumes: list[dict[str, Any]] = spec.get("container", {}).get("disk_volumes") or []
    return volumes


def downgrade() -> None:
    op.drop_table("disk_writers")
