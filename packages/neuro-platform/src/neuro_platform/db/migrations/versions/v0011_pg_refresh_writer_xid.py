"""Jobs: the id of the transaction that last wrote each row (PostgreSQL), so that a scheduler
pass reads only the jobs changed since the last one (`jobs/scheduling_queue.py`).

On PostgreSQL a trigger sets `writer_xid` to `pg_current_xact_id()` on every insert and
update, whoever writes (any server process, any code path). On SQLite the column stays
NULL: one process writes there, and its queue follows its commits instead.

Revision ID: 0011_pg_refresh_writer_xid
Revises: 0010_fence_leadership
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_pg_refresh_writer_xid"
down_revision = "0010_fence_leadership"
branch_labels = None
depends_on = None

# xid8 as bigint: 64 bits, epoch included, so it never wraps around (an epoch would have to
# pass 2^31 to leave bigint's range).
_TRIGGER_FUNCTION = """
CREATE FUNCTION jobs_note_writer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.writer_xid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$
"""
_TRIGGER = """
CREATE TRIGGER jobs_note_writer BEFORE INSERT OR UPDATE ON jobs
FOR EACH ROW EXECUTE FUNCTION jobs_note_writer()
"""


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("writer_xid", sa.BigInteger(), nullable=True))
    op.create_index("ix_jobs_writer_xid", "jobs", ["writer_xid"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_TRIGGER_FUNCTION)
        op.execute(_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER jobs_note_writer ON jobs")
        op.execute("DROP FUNCTION jobs_note_writer()")
    op.drop_index("ix_jobs_writer_xid", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("writer_xid")
