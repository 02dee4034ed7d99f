"""Admin API tables (migration `0008_admin`). Decimal amounts are stored as strings, exact on
every backend."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.models import NAME_LENGTH, Base

AMOUNT_LENGTH = 64


class ClusterUserRow(Base):
    __tablename__ = "admin_cluster_users"

    cluster_name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    org_name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)  # "": none
    user_name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    max_running_jobs: Mapped[int | None] = mapped_column(Integer, nullable=True)
    credits: Mapped[str | None] = mapped_column(String(AMOUNT_LENGTH), nullable=True)
    spent_at_set: Mapped[str] = mapped_column(String(AMOUNT_LENGTH))


class OrgUserRow(Base):
    __tablename__ = "admin_org_users"

    org_name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))


class OrgClusterRow(Base):
    __tablename__ = "admin_org_clusters"

    cluster_name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    org_name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    max_running_jobs: Mapped[int | None] = mapped_column(Integer, nullable=True)
    credits: Mapped[str | None] = mapped_column(String(AMOUNT_LENGTH), nullable=True)
    spent_at_set: Mapped[str] = mapped_column(String(AMOUNT_LENGTH))
    default_credits: Mapped[str | None] = mapped_column(String(AMOUNT_LENGTH), nullable=True)
    default_max_running_jobs: Mapped[int | None] = mapped_column(Integer, nullable=True)
    default_role: Mapped[str] = mapped_column(String(16))
    storage_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
