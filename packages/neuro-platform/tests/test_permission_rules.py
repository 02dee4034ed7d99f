"""The permission rules: owners, grants, folder coverage, deny, implied list, trees."""

from __future__ import annotations

import pytest

from neuro_platform.permissions import Action, parse_uri
from neuro_platform.permissions.rules import Grant, GrantSet, owner_roots

CLUSTERS = ("default", "other")
ORGS = ("acme",)


def grant_set(user: str, *grants: tuple[str, Action]) -> GrantSet:
    return GrantSet(
        [Grant(parse_uri(uri), action) for uri, action in grants],
        owner_roots(user, CLUSTERS, ORGS),
    )


def action(gs: GrantSet, uri: str) -> Action | None:
    return gs.action_on(parse_uri(uri))


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("storage://default/alice/data/", "storage://default/alice/data"),
        ("STORAGE://default//alice", "storage://default/alice"),
        ("storage:", "storage:"),
        ("role://alice/service-accounts/ci", "role://alice/service-accounts/ci"),
        ("storage://default/alice/my%20file", "storage://default/alice/my file"),
    ],
)
def test_uris_normalise(text: str, normalised: str) -> None:
    assert str(parse_uri(text)) == normalised


@pytest.mark.parametrize(
    "text",
    [
        "http://x",
        "storage:/relative",
        "storage://default/../bob",
        "nothing",
        "storage://default/alice/x%2F..%2F..",  # a '/' decoded inside one name
        "storage://default/alice/x%00y",
    ],
)
def test_bad_uris_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="URI"):
        parse_uri(text)


def test_owner_manages_own_tree_in_every_cluster_and_org() -> None:
    alice = grant_set("alice")
    for uri in (
        "storage://default/alice",
        "storage://other/alice/deep/file",
        "job://default/alice/job-1",
        "image://default/acme/alice/img",
        "secret://other/alice/key",
        "role://alice",
        "role://alice/service-accounts/ci",
    ):
        assert action(alice, uri) is Action.MANAGE, uri
    assert action(alice, "storage://default/bob") is None
    assert action(alice, "storage://default/alicex") is None
    assert action(alice, "role://bob") is None


def test_service_account_owns_only_its_own_subtree() -> None:
    account = grant_set("alice/service-accounts/ci")
    assert action(account, "storage://default/alice/service-accounts/ci/x") is Action.MANAGE
    assert action(account, "storage://default/alice/data") is None


def test_owns_is_ownership_of_a_whole_tree_not_a_grant_or_a_lookalike_name() -> None:
    # A listing reads every job of a tree the user owns without checking each job
    # (`JobsService.pages`): only a tree the user's own roots cover may count.
    gs = grant_set("alice", ("job://default/bob", Action.MANAGE))
    assert gs.owns(parse_uri("job://default/alice"))
    assert gs.owns(parse_uri("job://default/acme/alice"))
    assert gs.owns(parse_uri("job://default/alice/job-1"))
    assert not gs.owns(parse_uri("job://default/bob"))  # granted, even manage, is not owned
    assert not gs.owns(parse_uri("job://default/alicex"))
    assert not gs.owns(parse_uri("job://default/acme/bob"))
    assert not gs.owns(parse_uri("job://default"))  # above the tree
    assert not gs.owns(parse_uri("storage://default/bob/alice"))


def test_grant_on_folder_covers_everything_below() -> None:
    bob = grant_set("bob", ("storage://default/alice/shared", Action.READ))
    assert action(bob, "storage://default/alice/shared") is Action.READ
    assert action(bob, "storage://default/alice/shared/a/b.txt") is Action.READ
    assert action(bob, "storage://default/alice/sharedx") is None
    assert action(bob, "storage://other/alice/shared") is None


def test_highest_covering_grant_wins_and_actions_are_ordered() -> None:
    bob = grant_set(
        "bob",
        ("storage://default/alice", Action.READ),
        ("storage://default/alice/work", Action.WRITE),
    )
    work = parse_uri("storage://default/alice/work/file")
    assert bob.allows(work, Action.WRITE)
    assert bob.allows(work, Action.READ)
    assert bob.allows(work, Action.LIST)
    assert not bob.allows(work, Action.MANAGE)
    assert not bob.allows(parse_uri("storage://default/alice/file"), Action.WRITE)


def test_deny_holds_back_a_subfolder_of_a_share() -> None:
    bob = grant_set(
        "bob",
        ("storage://default/alice", Action.WRITE),
        ("storage://default/alice/private", Action.DENY),
        ("storage://default/alice/private/public", Action.READ),
    )
    assert action(bob, "storage://default/alice/notes") is Action.WRITE
    assert action(bob, "storage://default/alice/private/diary") is None
    # The re-share below keeps the way down visible, but nothing in it readable.
    assert action(bob, "storage://default/alice/private") is Action.LIST
    assert action(bob, "storage://default/alice/private/public/x") is Action.READ


def test_deny_cannot_take_away_ownership() -> None:
    alice = grant_set("alice", ("storage://default/alice", Action.DENY))
    assert action(alice, "storage://default/alice/x") is Action.MANAGE


def test_holding_something_below_implies_list_on_the_way_down() -> None:
    bob = grant_set("bob", ("storage://default/alice/shared/x", Action.READ))
    assert action(bob, "storage://default/alice") is Action.LIST
    assert action(bob, "storage://default") is Action.LIST
    assert bob.allows(parse_uri("storage://default/alice"), Action.LIST)
    assert not bob.allows(parse_uri("storage://default/alice"), Action.READ)
    assert action(bob, "storage://default/alice/other") is None


def test_tree_shows_visible_children_only() -> None:
    bob = grant_set(
        "bob",
        ("storage://default/alice/shared", Action.READ),
        ("storage://default/carol/project/data", Action.WRITE),
    )
    tree = bob.tree(parse_uri("storage://default")).to_json()
    assert tree["path"] == "storage://default"
    assert tree["action"] == "list"
    children = tree["children"]
    assert isinstance(children, dict)
    # "acme" shows because bob owns storage://default/acme/bob in that org.
    assert sorted(children) == ["acme", "alice", "bob", "carol"]
    assert children["bob"] == {"path": "storage://default/bob", "action": "manage", "children": {}}
    assert children["alice"]["action"] == "list"
    assert children["alice"]["children"]["shared"]["action"] == "read"
    project = children["carol"]["children"]["project"]
    assert project["action"] == "list"
    assert project["children"]["data"]["action"] == "write"


def test_tree_of_an_owned_folder_needs_no_children() -> None:
    tree = grant_set("alice").tree(parse_uri("storage://default/alice/data"))
    assert tree.action is Action.MANAGE
    assert tree.children == {}


def test_tree_of_something_invisible_is_deny() -> None:
    tree = grant_set("bob").tree(parse_uri("storage://default/alice"))
    assert tree.action is Action.DENY
    assert tree.children == {}
