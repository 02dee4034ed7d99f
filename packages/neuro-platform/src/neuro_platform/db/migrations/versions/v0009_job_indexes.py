"""Jobs: indexes that end with the listing order (created_at, id), for keyset pages.

A listing (docs/protocol.md §3.2) filtered by owner or status, or not at all, is read in
pages ordered by (created_at, id) (`jobs/repository.py`): with these indexes each page is a
range scan, whatever the size of the history. They replace the single-column indexes on
owner, status and created_at, which are their prefixes. (owner, status) counts an owner's
active jobs for the running-jobs quota.

Revision ID: 0009_job_indexes
Revises: 0008_admin
"""

from alembic import op

revision = "0009_job_indexes"
down_revision = "0008_admin"
branch_labels = None
depends_on = None

_NEW = {
    "ix_jobs_created_at_id": ["created_at", "id"],
    "ix_jobs_owner_created_at_id": ["owner", "created_at", "id"],
    "ix_jobs_status_created_at_id": ["status", "created_at", "id"],
    "ix_jobs_owner_status": ["owner", "status"],
}
_OLD = {
    "ix_jobs_owner": ["owner"],
    "ix_jobs_status": ["status"],
    "ix_jobs_created_at": ["created_at"],
}


def upgrade() -> None:
    for name, columns in _NEW.items():
        op.create_index(name, "jobs", columns)
    for name in _OLD:
        op.drop_index(name, "jobs")


def downgrade() -> None:
    for name, columns in _OLD.items():
        op.create_index(name, "jobs", columns)
    for name in _NEW:
        op.drop_index(name, "jobs")
