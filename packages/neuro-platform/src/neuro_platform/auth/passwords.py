"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendation)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this when the user does not exist keeps the response time the same, so
# timing does not reveal which user names exist. Written out rather than computed at import:
# hashing takes 0.1-0.7 s, which every server, admin command and test process paid on start.
# It must carry the hasher's parameters (a test checks), or the timing would differ.
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$VYgJRcIsZBbogas30JwJRA"
    "$eMEU3E+cF7yB0B//I4D0FhfEN4PruqJrt1M++YaFwoQ"
)


def needs_rehash(password_hash: str) -> bool:
    """Whether `password_hash` was made with other parameters than new hashes get."""
    return _hasher.check_needs_rehash(password_hash)
