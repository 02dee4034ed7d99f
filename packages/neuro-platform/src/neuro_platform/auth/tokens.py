"""Access tokens: HS256 JWTs signed with a per-installation secret kept in the data dir."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

ALGORITHM = "HS256"
USER_CLAIM = "https://platform.neuromation.io/user"
IDENTITY_CLAIM = "identity"
# The id of the account the token was issued to: a new account of a removed user's name has
# another id, so the old account's tokens do not work for it (see `auth/identity.py`).
ACCOUNT_CLAIM = "https://platform.neuromation.io/account"
# The job a job token is bound to (`jobs/job_tokens.py`).
JOB_CLAIM = "https://platform.neuromation.io/job"
REQUIRED_CLAIMS = ["sub", "iat", "exp", "jti"]
KEY_BYTES = 32  # 256-bit secret, as HS256 wants


class InvalidTokenError(Exception):
    """The token is malformed, forged, expired or uses a refused algorithm."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def load_or_create_signing_key(path: Path) -> bytes:
    """Reads the key, creating it (mode 0600, atomically) on first start."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    try:
        # link() fails if another process created the key meanwhile; then theirs wins.
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return bytes.fromhex(path.read_text().strip())


@dataclass(frozen=True)
class VerifiedToken:
    user_name: str
    token_id: str  # the `jti` claim: what a revocation names
    account_id: str | None = None  # None in tokens issued before accounts had ids
    job_id: str | None = None  # set in job tokens only


class TokenCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(
        self,
        user_name: str,
        ttl: timedelta,
        *,
        account_id: str | None = None,
        now: datetime | None = None,
    ) -> IssuedToken:
        issued_at = now or datetime.now(UTC)
        expires_at = issued_at + ttl
        claims: dict[str, object] = {
            "sub": user_name,
            IDENTITY_CLAIM: user_name,
            USER_CLAIM: user_name,
            "iat": issued_at,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
        }
        if account_id is not None:
            claims[ACCOUNT_CLAIM] = account_id
        return IssuedToken(self.sign(claims), expires_at)

    def sign(self, claims: Mapping[str, object]) -> str:
        """A token of claims built elsewhere (job tokens: `jobs/job_tokens.py`)."""
        return jwt.encode(dict(claims), self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> str:
        """Returns the user name; the algorithm list is pinned so `alg: none` is refused."""
        return self.verify_claims(token).user_name

    def verify_claims(self, token: str) -> VerifiedToken:
        try:
            claims = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS}
            )
        except jwt.PyJWTError as e:
            raise InvalidTokenError(str(e)) from e
        user_name = claims.get("sub")
        if not isinstance(user_name, str) or claims.get(IDENTITY_CLAIM) != user_name:
            raise InvalidTokenError("token names no consistent user")
        account_id = claims.get(ACCOUNT_CLAIM)
        job_id = claims.get(JOB_CLAIM)
        return VerifiedToken(
            user_name,
            str(claims["jti"]),
            account_id=None if account_id is None else str(account_id),
            job_id=None if job_id is None else str(job_id),
        )
