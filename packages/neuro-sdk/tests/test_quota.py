"""``Users.get_quota`` / ``get_org_quota`` and ``Client._admin`` against our real server
(docs/protocol.md §2.7): alice is the cluster admin, bob a plain user in org ``acme``."""

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import neuro_sdk
from neuro_platform.testing import PlatformServer, running_platform
from neuro_sdk import AuthorizationError, IllegalArgumentError, Quota

CONFIG = {"clusters": [{"name": "default", "orgs": ["NO_ORG", "acme"]}]}
USERS = {"alice": "alice-password", "bob": "bob-password"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    with running_platform(tmp_path_factory.mktemp("quota"), config=CONFIG, users=USERS) as s:
        s.admin("user", "role", "alice", "admin")
        yield s


async def _client(server: PlatformServer, name: str, path: Path) -> neuro_sdk.Client:
    await neuro_sdk.login_with_token(server.issue_token(name), url=server.api_url, path=path)
    return await neuro_sdk.get(path=path)


@pytest.fixture
async def alice(server: PlatformServer, tmp_path: Path) -> AsyncIterator[neuro_sdk.Client]:
    client = await _client(server, "alice", tmp_path / "alice")
    yield client
    await client.close()


@pytest.fixture
async def bob(server: PlatformServer, tmp_path: Path) -> AsyncIterator[neuro_sdk.Client]:
    client = await _client(server, "bob", tmp_path / "bob")
    yield client
    await client.close()


async def test_quota_is_what_the_admin_set(alice: neuro_sdk.Client, bob: neuro_sdk.Client) -> None:
    assert bob.config.admin_url is not None
    assert await bob.users.get_quota() == Quota(credits=None, total_running_jobs=None)
    assert await bob.users.get_org_quota() is None  # outside any org
    admin = alice._admin
    await admin.update_cluster_user_quota("default", "bob", neuro_sdk._Quota(3))
    user = await admin.update_cluster_user_balance("default", "bob", Decimal("5.5"))
    assert (user.role, user.balance.credits) == (
        neuro_sdk._ClusterUserRoleType.USER,
        Decimal("5.5"),
    )
    assert await bob.users.get_quota() == Quota(credits=Decimal("5.5"), total_running_jobs=3)


async def test_org_quota_follows_the_current_org(
    alice: neuro_sdk.Client, bob: neuro_sdk.Client
) -> None:
    await alice._admin.update_org_cluster_quota("default", "acme", neuro_sdk._Quota(4))
    await alice._admin.update_org_cluster_defaults(
        "default", "acme", default_quota=neuro_sdk._Quota(2), default_credits=Decimal(9)
    )
    await bob.config.switch_org("acme")
    assert await bob.users.get_org_quota() == Quota(credits=None, total_running_jobs=4)
    assert await bob.users.get_quota() == Quota(credits=Decimal(9), total_running_jobs=2)


async def test_a_user_cannot_change_quotas_through_the_sdk(bob: neuro_sdk.Client) -> None:
    with pytest.raises(AuthorizationError, match="admin"):
        await bob._admin.update_cluster_user_quota("default", "bob", neuro_sdk._Quota(100))
    with pytest.raises(AuthorizationError):
        await bob._admin.list_cluster_users("default")
    with pytest.raises(IllegalArgumentError, match="server settings"):
        await bob._admin.create_org("new-org")


async def test_admin_lists_clusters_orgs_and_members(alice: neuro_sdk.Client) -> None:
    assert [c.name for c in await alice._admin.list_clusters()] == ["default"]
    assert [o.name for o in await alice._admin.list_orgs()] == ["acme"]
    member = await alice._admin.create_org_user(
        "acme", "bob", neuro_sdk._OrgUserRoleType.USER, with_user_info=True
    )
    assert isinstance(member, neuro_sdk._OrgUserWithInfo)
    assert [u.user_name for u in await alice._admin.list_org_users("acme")] == ["bob"]
    await alice._admin.delete_org_user("acme", "bob")
    assert await alice._admin.list_org_users("acme") == []
