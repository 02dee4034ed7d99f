"""``Client.users``: two real users sharing storage through our real server (docs/protocol.md
§7)."""

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from yarl import URL

import neuro_sdk
from neuro_sdk import (
    Action,
    AuthorizationError,
    IllegalArgumentError,
    Permission,
    ResourceNotFound,
    Share,
)

SHARED = URL("storage://default/alice/shared")
SHARED_FILE = SHARED / "data.txt"
SIBLING = URL("storage://default/alice/private")
# `client_of` comes from conftest.py.
ClientOf = Callable[[str], Awaitable[neuro_sdk.Client]]


@pytest.fixture
async def alice(client_of: ClientOf) -> neuro_sdk.Client:
    client = await client_of("alice")
    await client.storage.mkdir(SHARED, parents=True)
    await client.storage.mkdir(SIBLING, parents=True)
    await _upload(client, SHARED_FILE, b"shared content")
    await _upload(client, SIBLING / "secret.txt", b"secret")
    return client


@pytest.fixture
async def bob(client_of: ClientOf) -> neuro_sdk.Client:
    return await client_of("bob")


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _upload(client: neuro_sdk.Client, uri: URL, data: bytes) -> None:
    await client.storage.create(uri, _chunks(data))


async def _read(client: neuro_sdk.Client, uri: URL) -> bytes:
    async with client.storage.open(uri) as chunks:
        return b"".join([chunk async for chunk in chunks])


async def _names(client: neuro_sdk.Client, uri: URL) -> list[str]:
    async with client.storage.list(uri) as statuses:
        return sorted([status.name async for status in statuses])


async def test_read_share_lets_bob_read_but_not_write_or_see_siblings(
    alice: neuro_sdk.Client, bob: neuro_sdk.Client
) -> None:
    await alice.users.share("bob", Permission(SHARED, Action.READ))

    assert await _read(bob, SHARED_FILE) == b"shared content"
    assert await _names(bob, SHARED) == ["data.txt"]
    # Alice's home shows bob the way to the share and nothing else.
    assert await _names(bob, URL("storage://default/alice")) == ["shared"]
    with pytest.raises(AuthorizationError):
        await _names(bob, SIBLING)
    with pytest.raises(AuthorizationError):
        await _read(bob, SIBLING / "secret.txt")
    with pytest.raises(AuthorizationError):
        await _upload(bob, SHARED / "from-bob.txt", b"hi")
    assert await _names(alice, SHARED) == ["data.txt"]


async def test_write_share_lets_bob_upload_and_revoke_cuts_access(
    alice: neuro_sdk.Client, bob: neuro_sdk.Client
) -> None:
    await alice.users.share("bob", Permission(SHARED, Action.WRITE))

    await _upload(bob, SHARED / "from-bob.txt", b"hi alice")
    assert await _read(alice, SHARED / "from-bob.txt") == b"hi alice"

    await alice.users.revoke("bob", SHARED)

    with pytest.raises(AuthorizationError):
        await _read(bob, SHARED_FILE)
    with pytest.raises(AuthorizationError):
        await _upload(bob, SHARED / "again.txt", b"x")
    assert Permission(SHARED, Action.WRITE) not in await bob.users.get_acl("bob")


async def test_acl_and_shares_list_what_was_shared(
    alice: neuro_sdk.Client, bob: neuro_sdk.Client
) -> None:
    await alice.users.share("bob", Permission(SHARED, Action.READ))
    await alice.users.share("bob", Permission(SHARED_FILE, Action.WRITE))

    shares = await alice.users.get_shares("alice")
    assert shares == [
        Share("bob", Permission(SHARED, Action.READ)),
        Share("bob", Permission(SHARED_FILE, Action.WRITE)),
    ]
    assert await alice.users.get_shares("alice", "job") == []
    assert await alice.users.get_shares("alice", uri=SHARED_FILE) == shares[1:]

    bob_storage = await bob.users.get_acl("bob", "storage")
    assert bob_storage == [
        Permission(URL("storage://default/alice/shared"), Action.READ),
        Permission(URL("storage://default/alice/shared/data.txt"), Action.WRITE),
        Permission(URL("storage://default/bob"), Action.MANAGE),
    ]
    assert all(isinstance(p.action, Action) for p in bob_storage)
    assert await bob.users.get_acl("bob", uri=URL("role:")) == [
        Permission(URL("role://bob"), Action.MANAGE)
    ]
    with pytest.raises(ValueError, match="Conflicting"):
        await bob.users.get_acl("bob", "storage", uri=URL("storage:"))
    # Nobody else reads bob's permissions.
    with pytest.raises(AuthorizationError):
        await alice.users.get_acl("bob")


async def test_role_membership_grants_and_then_removes_access(
    alice: neuro_sdk.Client, bob: neuro_sdk.Client
) -> None:
    await alice.users.add("alice/readers")
    await alice.users.share("alice/readers", Permission(SHARED, Action.READ))
    with pytest.raises(AuthorizationError):
        await _read(bob, SHARED_FILE)

    await alice.users.share("bob", Permission(URL("role://alice/readers"), Action.READ))

    assert await _read(bob, SHARED_FILE) == b"shared content"
    assert await alice.users.get_subroles("alice") == ["alice/readers"]
    assert Share("bob", Permission(URL("role://alice/readers"), Action.READ)) in (
        await alice.users.get_shares("alice", "role")
    )
    # Members read what the role holds; managing the role stays with alice.
    with pytest.raises(AuthorizationError):
        await bob.users.share("alice", Permission(URL("role://alice/readers"), Action.READ))

    await alice.users.revoke("bob", URL("role://alice/readers"))
    with pytest.raises(AuthorizationError):
        await _read(bob, SHARED_FILE)

    await alice.users.share("bob", Permission(URL("role://alice/readers"), Action.READ))
    await alice.users.remove("alice/readers")
    with pytest.raises(AuthorizationError):
        await _read(bob, SHARED_FILE)
    assert await alice.users.get_subroles("alice") == []
    with pytest.raises(ResourceNotFound):
        await alice.users.remove("alice/readers")


async def test_bad_shares_raise_clear_errors_and_change_nothing(
    alice: neuro_sdk.Client, bob: neuro_sdk.Client
) -> None:
    before = await bob.users.get_acl("bob")

    with pytest.raises(ResourceNotFound, match="no user or role named 'nobody'"):
        await alice.users.share("nobody", Permission(SHARED, Action.READ))
    with pytest.raises(IllegalArgumentError, match="must look like"):
        await alice.users.share("bob", Permission(URL("storage:shared"), Action.READ))
    with pytest.raises(IllegalArgumentError, match="unsupported resource URI"):
        await alice.users.share("bob", Permission(URL("https://example.org"), Action.READ))
    with pytest.raises(ValueError, match="'deny' is not a valid Action"):
        await alice.users.share("bob", Permission(SHARED, "deny"))  # type: ignore[arg-type]
    with pytest.raises(AuthorizationError):
        await bob.users.share("bob", Permission(SHARED, Action.READ))
    with pytest.raises(ValueError, match="Invalid name"):
        await alice.users.share("bob:x", Permission(SHARED, Action.READ))

    assert await bob.users.get_acl("bob") == before
    assert await alice.users.get_shares("alice") == []


async def test_role_names_are_checked(alice: neuro_sdk.Client, bob: neuro_sdk.Client) -> None:
    with pytest.raises(AuthorizationError):
        await bob.users.add("alice/team")
    with pytest.raises(IllegalArgumentError, match="invalid role name"):
        await alice.users.add("alice/Team!")
    await alice.users.add("alice/team")
    with pytest.raises(IllegalArgumentError, match="exists already"):
        await alice.users.add("alice/team")
    with pytest.raises(AuthorizationError):
        await bob.users.remove("alice/team")
    assert await alice.users.get_subroles("alice") == ["alice/team"]
