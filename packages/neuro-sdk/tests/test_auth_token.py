"""The user name the SDK reads out of a token (without checking it: the server does)."""

import jwt
import pytest

from neuro_sdk import AuthError
from neuro_sdk._auth_token import username_from_token


@pytest.mark.parametrize(
    "claims",
    [
        {"identity": "alice"},
        {"https://platform.neuromation.io/user": "alice", "exp": 2_000_000_000},
        {"https://platform.neuromation.io/user": "alice", "identity": ""},
    ],
)
def test_the_user_name_comes_from_either_claim(claims: dict[str, object]) -> None:
    # Payloads of every length: base64url padding is left off in JWTs.
    for extra in ("", "x", "xy", "xyz"):
        token = jwt.encode({**claims, "pad": extra}, "a-secret-of-32-bytes-for-hs256!!", "HS256")
        assert username_from_token(token) == "alice"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-token", "no three dot-separated parts"),
        ("a.b.c.d", "no three dot-separated parts"),
        ("eyJhbGciOiJIUzI1NiJ9.!!!.sig", "payload is unreadable"),
        ("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig", "payload is unreadable"),  # "not json"
        ("eyJhbGciOiJIUzI1NiJ9.WzFd.sig", "not a JSON object"),  # [1]
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig", "no user name claim"),  # {"sub": "x"}
    ],
)
def test_a_token_without_a_readable_user_name_is_an_auth_error(token: str, message: str) -> None:
    with pytest.raises(AuthError, match=message):
        username_from_token(token)
