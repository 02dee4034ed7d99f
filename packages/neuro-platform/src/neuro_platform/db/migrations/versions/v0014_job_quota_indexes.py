"""Jobs: the jobs quota's counts read an index each, and no job row.

A submission under a jobs quota counts its account's unfinished jobs (`jobs/quota.py`, then
again in the transaction that records it). The index on (owner, status) found a user's jobs,
but each one's row was then read to match its cluster and org, and those rows hold the jobs'
specs: with 2,000 jobs pending, such a submission cost ~6 ms of the server's CPU on SQLite
(`benchmarks/submit_ceiling.py --jobs-quota`). An org's count read every unfinished job's row.

(owner, status, cluster_name, org_name) answers a user's count from the index alone, and
replaces (owner, status), its prefix; (org_name, cluster_name, status) answers an org's.

Revision ID: 0014_job_quota_indexes
Revises: 0013_unique_active_job_names
"""

from alembic import op

revision = "0014_job_quota_indexes"
down_revision = "0013_unique_active_job_names"
branch_labels = None
depends_on = None

_NEW = {
    "ix_jobs_owner_status_cluster_org": ["owner", "status", "cluster_name", "org_name"],
    "ix_jobs_org_cluster_status": ["org_name", "cluster_name", "status"],
}
_OLD = {"ix_jobs_owner_status": ["owner", "status"]}


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
