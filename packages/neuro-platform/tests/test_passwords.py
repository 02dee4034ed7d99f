"""The stand-in hash checked for unknown user names costs what a real user's check costs."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from neuro_platform.auth.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password


def test_the_dummy_hash_has_the_parameters_of_new_hashes() -> None:
    assert not needs_rehash(DUMMY_HASH)
    assert not needs_rehash(hash_password("a-real-password"))
    # Hostile: a hash made with weaker parameters is told apart.
    assert needs_rehash(PasswordHasher(time_cost=1, memory_cost=1024).hash("a-real-password"))


def test_the_dummy_hash_is_a_hash_that_is_checked_in_full() -> None:
    # A malformed hash would be refused before any hashing, which is quicker and so telling.
    with pytest.raises(VerifyMismatchError):
        PasswordHasher().verify(DUMMY_HASH, "not-a-real-password")
    assert verify_password(DUMMY_HASH, "alice-password") is False
