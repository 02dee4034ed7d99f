"""The user_removals table (migration `0005_user_removal`): removals the server finishes.

The admin CLI removes what lives in the database at once; jobs and disks belong to the server
process (its scheduler, its loop mounts), so the CLI leaves a row here that the server acts on
and marks done, with what it ended, which the CLI waits for and reports.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.models import NAME_LENGTH, Base, UTCDateTime


class UserRemovalRow(Base):
    __tablename__ = "user_removals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_name: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    jobs_ended: Mapped[int | None] = mapped_column(Integer, nullable=True)
    disks_removed: Mapped[int | None] = mapped_column(Integer, nullable=True)
