"""What the admin API talks about (docs/protocol.md §2.7), free of storage and HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

NO_ORG = ""  # the org key of a cluster user outside any org (a primary key cannot be NULL)


class ClusterRole(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    MEMBER = "member"
    USER = "user"


class OrgRole(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    USER = "user"


# Roles a manager may hand out: never one that manages (or it could promote itself).
MANAGER_GRANTABLE = frozenset({ClusterRole.MEMBER, ClusterRole.USER, OrgRole.USER})


@dataclass(frozen=True)
class Quota:
    total_running_jobs: int | None = None  # None: no limit


@dataclass(frozen=True)
class Credits:
    """A credit account. Credits are spent by running jobs (run time x their preset's
    `credits_per_hour`); `spent` is what the account's jobs spent so far, worked out from
    the jobs themselves, so nothing has to charge the account while jobs run.

    `amount` is what an administrator last set (None: unlimited), and `spent_at_set` what
    had been spent at that moment: what is left is `amount - (spent - spent_at_set)`.
    """

    amount: Decimal | None = None
    spent_at_set: Decimal = Decimal(0)

    def left(self, spent: Decimal) -> Decimal | None:
        if self.amount is None:
            return None
        return self.amount - (spent - self.spent_at_set)


@dataclass(frozen=True)
class ClusterUser:
    cluster_name: str
    user_name: str
    org_name: str | None
    role: ClusterRole
    quota: Quota
    credits: Credits


@dataclass(frozen=True)
class OrgUser:
    org_name: str
    user_name: str
    role: OrgRole


@dataclass(frozen=True)
class OrgCluster:
    cluster_name: str
    org_name: str
    quota: Quota
    credits: Credits
    default_credits: Decimal | None = None
    default_quota: Quota = Quota()
    default_role: ClusterRole = ClusterRole.USER
    storage_size: int | None = None
