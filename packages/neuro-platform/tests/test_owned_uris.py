"""One helper builds `scheme://cluster/[org/]owner/...` URIs; "no org" is None inside."""

from __future__ import annotations

import pytest

from neuro_platform.permissions.uris import org_from_wire, owned_uri, owner_parts, parse_uri
from neuro_platform.secrets.entities import SecretRef


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("job", "default", "alice", None, "job-1"), "job://default/alice/job-1"),
        (("job", "default", "alice", "acme", "job-1"), "job://default/acme/alice/job-1"),
        (("disk", "lab", "alice", None), "disk://lab/alice"),
        (("secret", "lab", "alice", "acme", "k"), "secret://lab/acme/alice/k"),
        # A service account's tree is as deep as its name.
        (
            ("secret", "default", "alice/service-accounts/ci", None, "k"),
            "secret://default/alice/service-accounts/ci/k",
        ),
    ],
)
def test_owned_uri(args: tuple[str, str, str, str | None, str], expected: str) -> None:
    scheme, cluster, owner, org, *names = args
    uri = owned_uri(scheme, cluster, owner, org, *names)
    assert str(uri) == expected
    assert parse_uri(expected) == uri


def test_home_path_with_and_without_org() -> None:
    assert owner_parts("alice") == ("alice",)
    assert owner_parts("alice", "acme") == ("acme", "alice")
    assert owner_parts("alice/service-accounts/ci") == ("alice", "service-accounts", "ci")


def test_an_empty_org_is_refused_not_made_a_double_slash() -> None:
    with pytest.raises(ValueError, match="None"):
        owned_uri("job", "default", "alice", "")


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [(None, None), ("", None), ("NO_ORG", None), ("acme", "acme"), ("no_org", "no_org")],
)
def test_org_from_wire(spelling: str | None, expected: str | None) -> None:
    assert org_from_wire(spelling) == expected


def test_entities_use_the_helper() -> None:
    assert SecretRef("default", None, "alice", "k").uri == "secret://default/alice/k"
    assert SecretRef("default", "acme", "alice", "k").uri == "secret://default/acme/alice/k"
