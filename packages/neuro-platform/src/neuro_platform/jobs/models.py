"""The jobs table (migrations `0003_jobs`, `0006_job_spec`, `0009_job_indexes`,
`0011_pg_refresh_writer_xid`, `0013_unique_active_job_names`, `0014_job_quota_indexes`):
all of the scheduler's state lives here. Beside it, the read-write claims of disks
(`0012_disk_writers`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.models import NAME_LENGTH, Base, UTCDateTime

# The unfinished statuses (`ACTIVE_STATUSES`) as the index below and migration 0013 state
# them: a status added to those must be added here, by a migration.
UNFINISHED_NAMED = text("name IS NOT NULL AND status IN ('pending', 'suspended', 'running')")


class JobRow(Base):
    """The job's spec as one JSON document (`jobs.codec`), its runtime state in columns.

    `name` and `priority` repeat what the spec holds, as columns listings filter and the
    scheduler orders by; they are written from the spec and never read back into a job.
    `statuses` is the transition list of docs/protocol.md §3.5.
    """

    __tablename__ = "jobs"
    # Listings are ordered by (created_at, id) and read in keyset pages on it, filtered by
    # owner or status (docs/protocol.md §3.2): each index ends with that order, so a page is
    # one range scan at any history size. The jobs quota counts a user's or an org's
    # unfinished jobs in a cluster from an index alone, reading no row (migration 0014).
    __table_args__ = (
        Index("ix_jobs_created_at_id", "created_at", "id"),
        Index("ix_jobs_owner_created_at_id", "owner", "created_at", "id"),
        Index("ix_jobs_status_created_at_id", "status", "created_at", "id"),
        Index("ix_jobs_owner_status_cluster_org", "owner", "status", "cluster_name", "org_name"),
        Index("ix_jobs_org_cluster_status", "org_name", "cluster_name", "status"),
        # A name is its owner's among the unfinished jobs: the database refuses a second
        # one, however submissions race, whichever process they reach.
        Index(
            "ix_jobs_unfinished_owner_name",
            "owner",
            "name",
            unique=True,
            sqlite_where=UNFINISHED_NAMED,
            postgresql_where=UNFINISHED_NAMED,
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(NAME_LENGTH))
    cluster_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    org_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    name: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    statuses: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    restarts: Mapped[int] = mapped_column(Integer)
    # True while a container may exist for the job: the scheduler still has to clean it up.
    materialized: Mapped[bool] = mapped_column(Boolean)
    # PostgreSQL: the transaction that last wrote the row, set by a trigger (migration 0011),
    # never by this code; a scheduler pass reads the rows changed since its last one by it.
    # NULL on SQLite.
    writer_xid: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class DiskWriterRow(Base):
    """The job that last claimed a disk read-write (`jobs/volume_access.py`).

    The primary key lets the database, not a process, decide between submissions racing
    for one disk, whichever server process they reach. A claim holds while its job is in
    the scheduling queue (unfinished, or its container not yet removed) and is taken over by
    the next writer after that, so it is never released
    and rows are never deleted (a disk id is never reused: a removed disk's row is inert).
    """

    __tablename__ = "disk_writers"

    disk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # No foreign key: the claim is written before its job in the same transaction, and a
    # holder that is not stored counts as finished.
    job_id: Mapped[str] = mapped_column(String(64))
