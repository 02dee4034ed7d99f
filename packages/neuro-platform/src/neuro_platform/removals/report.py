"""What `neuro-platform admin user remove` did, as the lines it prints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .purge import RemovedRecords


@dataclass(frozen=True)
class ServerOutcome:
    jobs_ended: int
    disks_removed: int


@dataclass(frozen=True)
class RemovalReport:
    user_name: str
    records: RemovedRecords
    storage_folders: tuple[Path, ...]  # where the user's folders were moved
    server: ServerOutcome | None  # None: the server has not confirmed (yet)

    def lines(self) -> list[str]:
        r = self.records
        lines = [
            f"Removed user {self.user_name}",
            "  all access tokens and refresh tokens: revoked "
            f"({r.refresh_tokens} refresh token(s))",
            f"  secrets: {r.secrets}",
            f"  service accounts: {len(r.service_accounts)}"
            + "".join(f"\n    {role} (token revoked)" for role in r.service_accounts),
            f"  roles: {r.roles}",
            f"  permission grants (held by them or on their resources): {r.grants}",
            f"  role memberships: {r.memberships}",
        ]
        if self.server is not None:
            lines.append(f"  jobs ended: {self.server.jobs_ended}")
            lines.append(f"  disks destroyed: {self.server.disks_removed}")
        else:
            lines.append(
                f"  jobs to end: {r.unfinished_jobs}, disks to destroy: {r.disks} (the server "
                "does this when it notices the removal; a stopped server does it at start)"
            )
        if self.storage_folders:
            lines.append("  storage folders kept for the operator, out of every account's reach:")
            lines.extend(f"    {path}" for path in self.storage_folders)
        else:
            lines.append("  storage folders: none")
        return lines
