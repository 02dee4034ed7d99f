"""``Client.secrets``, ``Client.disks`` and ``Client.service_accounts`` on our real server."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from yarl import URL

import neuro_sdk
from neuro_sdk import AuthenticationError, Disk, IllegalArgumentError, ResourceNotFound

MIB = 1024**2
# `client_of` comes from conftest.py.
ClientOf = Callable[[str], Awaitable[neuro_sdk.Client]]


async def test_secrets_add_list_rm(client_of: ClientOf) -> None:
    alice = await client_of("alice")
    await alice.secrets.add("token", b"\x00binary\xff")
    await alice.secrets.add("token", b"replaced")  # adding again replaces the value
    async with alice.secrets.list() as secrets:
        listed = [s async for s in secrets]
    assert [(s.key, s.owner, s.cluster_name, s.org_name) for s in listed] == [
        ("token", "alice", "default", None)
    ]
    assert listed[0].uri == URL("secret://default/alice/token")
    await alice.secrets.rm("token")
    with pytest.raises(ResourceNotFound):
        await alice.secrets.rm("token")
    with pytest.raises(IllegalArgumentError):
        await alice.secrets.add("bad key", b"x")


async def test_disks_create_get_list_rm(client_of: ClientOf) -> None:
    alice = await client_of("alice")
    disk = await alice.disks.create(8 * MIB, timedelta(hours=1), "scratch")
    assert disk.status is Disk.Status.READY
    assert disk.storage == 8 * MIB
    assert disk.timeout_unused == timedelta(hours=1)
    assert disk.uri == URL(f"disk://default/alice/{disk.id}")
    assert (await alice.disks.get("scratch")).id == disk.id
    assert (await alice.disks.get(disk.id)).name == "scratch"
    async with alice.disks.list() as disks:
        assert [d.id async for d in disks] == [disk.id]
    await alice.disks.rm("scratch")
    with pytest.raises(ResourceNotFound):
        await alice.disks.get(disk.id)


async def test_service_account_token_logs_in_until_removed(
    client_of: ClientOf, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await client_of("alice")
    account, token = await alice.service_accounts.create("robot")
    assert account.role == "alice/service-accounts/robot"
    assert account.default_cluster == "default"
    assert await alice.service_accounts.get("robot") == account
    async with alice.service_accounts.list() as accounts:
        assert [a async for a in accounts] == [account]

    # The token is a passed config: a fresh environment logs in with it alone.
    monkeypatch.setenv(neuro_sdk.PASS_CONFIG_ENV_NAME, token)
    robot = await neuro_sdk.get(path=tmp_path / "robot-config")
    try:
        assert robot.config.username == "alice/service-accounts/robot"
        async with robot.jobs.list() as jobs:
            assert [j async for j in jobs] == []
        await alice.service_accounts.rm(account.id)
        with pytest.raises(AuthenticationError):
            async with robot.jobs.list() as jobs:
                [j async for j in jobs]
    finally:
        await robot.close()


async def test_listings_include_secrets_and_disks_shared_with_the_caller(
    client_of: ClientOf,
) -> None:
    alice = await client_of("alice")
    bob = await client_of("bob")
    await alice.secrets.add("shared-key", b"v")
    await alice.secrets.add("private-key", b"v")
    shared_disk = await alice.disks.create(8 * MIB, name="shared-disk")
    await alice.disks.create(8 * MIB, name="private-disk")

    async def bobs_view() -> tuple[set[str], set[str | None]]:
        async with bob.secrets.list() as secrets:
            keys = {s.key async for s in secrets}
        async with bob.disks.list() as disks:
            names = {d.name async for d in disks}
        return keys, names

    assert await bobs_view() == (set(), set())

    await alice.users.share(
        "bob", neuro_sdk.Permission(URL("secret://default/alice/shared-key"), neuro_sdk.Action.READ)
    )
    await alice.users.share("bob", neuro_sdk.Permission(shared_disk.uri, neuro_sdk.Action.READ))
    assert await bobs_view() == ({"shared-key"}, {"shared-disk"})

    await alice.users.revoke("bob", shared_disk.uri)
    assert await bobs_view() == ({"shared-key"}, set())
