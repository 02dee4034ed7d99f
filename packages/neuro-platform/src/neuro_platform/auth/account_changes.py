"""How the admin CLI tells a running server at once that accounts changed: a file.

The server caches who exists and who holds what (`permissions/cache.py`), and the cache cannot
see commits of another process: on its own, a user removed by `neuro-platform admin user
remove` would keep working for up to `CACHE_TTL_S`. So after committing a removal the CLI
replaces `<data_dir>/account-changes` (a new file, so its inode differs), and the server
stats that file on every authenticated request (about a microsecond) and empties its caches
when it changed: the first request after the CLI returns sees the removal. Both sides know the
data dir already: the token signing key lives there.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..permissions.cache import PRINCIPAL_CHANGES

FILE_NAME = "account-changes"


def account_changes_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def announce_account_change(path: Path) -> None:
    """Replaces the file (write + rename: readers never see it half-written or missing)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.write_text(secrets.token_hex(16))
    os.replace(temporary, path)


class AccountChanges:
    """Notices replacements of the file; each one empties this process's principal caches."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen = self._fingerprint()

    def poll(self) -> bool:
        """True (and the caches emptied) when the file changed since the last poll."""
        current = self._fingerprint()
        if current == self._seen:
            return False
        self._seen = current
        PRINCIPAL_CHANGES.bump()
        return True

    def _fingerprint(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size
