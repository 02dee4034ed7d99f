"""The users API (docs/protocol.md §7) over HTTP on a real server: sharing, revoking, roles.

Requests are raw so that statuses and bodies are checked exactly as clients see them.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import yarl

from neuro_platform.testing import PlatformServer


@dataclass
class ApiUser:
    name: str
    token: str
    api_url: yarl.URL
    session: aiohttp.ClientSession

    async def call(
        self, method: str, path: str, *, json: Any = None, **query: str
    ) -> tuple[int, Any]:
        url = (self.api_url / path).with_query(query)
        async with self.session.request(
            method, url, json=json, headers={"Authorization": f"Bearer {self.token}"}
        ) as response:
            body = None if response.status == 204 else await response.json()
            return response.status, body

    async def share(self, receiver: str, uri: str, action: str) -> tuple[int, Any]:
        return await self.call(
            "POST", f"users/{receiver}/permissions", json=[{"uri": uri, "action": action}]
        )

    async def permissions(self, user: str | None = None, **query: str) -> list[dict[str, str]]:
        status, body = await self.call("GET", f"users/{user or self.name}/permissions", **query)
        assert status == 200, body
        assert isinstance(body, list)
        return body

    async def shares(self, **query: str) -> list[dict[str, str]]:
        status, body = await self.call("GET", f"users/{self.name}/permissions/shared", **query)
        assert status == 200, body
        assert isinstance(body, list)
        return body

    async def read_file(self, path: str) -> int:
        url = self.api_url / "storage" / path
        async with self.session.get(
            url.with_query(op="OPEN"), headers={"Authorization": f"Bearer {self.token}"}
        ) as response:
            await response.read()
            return response.status

    async def upload(self, path: str, data: bytes) -> int:
        url = self.api_url / "storage" / path
        async with self.session.put(
            url.with_query(op="CREATE"),
            data=io.BytesIO(data),
            headers={"Authorization": f"Bearer {self.token}"},
        ) as response:
            await response.read()
            return response.status


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def _user(server: PlatformServer, session: aiohttp.ClientSession, name: str) -> ApiUser:
    return ApiUser(name, server.issue_token(name), server.api_url, session)


@pytest.fixture
def alice(platform_server: PlatformServer, session: aiohttp.ClientSession) -> ApiUser:
    return _user(platform_server, session, "alice")


@pytest.fixture
def bob(platform_server: PlatformServer, session: aiohttp.ClientSession) -> ApiUser:
    return _user(platform_server, session, "bob")


@pytest.fixture
def carol(platform_server: PlatformServer, session: aiohttp.ClientSession) -> ApiUser:
    platform_server.create_user("carol", "carol-password")
    return _user(platform_server, session, "carol")


SHARED = "storage://default/alice/shared"


async def test_share_answers_201_with_the_grant_and_revoke_204(
    alice: ApiUser, bob: ApiUser
) -> None:
    assert await alice.upload("alice/shared/f.txt", b"hello") == 201

    status, body = await alice.share("bob", SHARED, "read")

    assert (status, body) == (201, [{"uri": SHARED, "action": "read"}])
    assert await bob.read_file("alice/shared/f.txt") == 200
    assert {"uri": SHARED, "action": "read"} in await bob.permissions()
    assert await alice.shares() == [{"user": "bob", "uri": SHARED, "action": "read"}]

    assert await alice.call("DELETE", "users/bob/permissions", uri=SHARED) == (204, None)
    # Cached grants are forgotten when a grant changes: the very next request is refused.
    assert await bob.read_file("alice/shared/f.txt") == 403
    assert await alice.shares() == []


async def test_own_permissions_list_owned_trees_and_filter_by_uri(alice: ApiUser) -> None:
    everything = await alice.permissions()
    assert {"uri": "storage://default/alice", "action": "manage"} in everything
    assert {"uri": "role://alice", "action": "manage"} in everything

    storage_only = await alice.permissions(uri="storage:")
    assert storage_only == [{"uri": "storage://default/alice", "action": "manage"}]
    # A deeper filter still shows the permission that covers it.
    assert await alice.permissions(uri="storage://default/alice/data") == storage_only


async def test_only_the_user_reads_their_permissions(alice: ApiUser, bob: ApiUser) -> None:
    for path in (
        "users/alice/permissions",
        "users/alice/permissions/shared",
        "users/alice/subroles",
    ):
        status, body = await bob.call("GET", path)
        assert status == 403, path
        assert body == {"missing": [{"uri": "role://alice", "action": "manage"}]}


@pytest.mark.parametrize(
    ("receiver", "permission", "status", "message"),
    [
        ("nobody", {"uri": SHARED, "action": "read"}, 404, "no user or role named 'nobody'"),
        ("bob", {"uri": "storage:/relative", "action": "read"}, 400, "must look like"),
        ("bob", {"uri": "http://example.org/x", "action": "read"}, 400, "unsupported"),
        ("bob", {"uri": SHARED, "action": "deny"}, 400, "must be one of read, write, manage"),
        ("bob", {"uri": SHARED, "action": "list"}, 400, "must be one of read, write, manage"),
        ("bob", {"uri": SHARED, "action": "own"}, 400, "unknown action"),
        ("bob", {"uri": "role://alice/no-such-role", "action": "read"}, 404, "no user or role"),
    ],
)
async def test_bad_shares_are_refused_and_change_nothing(
    alice: ApiUser,
    bob: ApiUser,
    receiver: str,
    permission: dict[str, str],
    status: int,
    message: str,
) -> None:
    before = await bob.permissions()

    answer, body = await alice.call("POST", f"users/{receiver}/permissions", json=[permission])

    assert answer == status
    assert message in body["error"]
    assert await bob.permissions() == before
    assert await alice.shares() == []


async def test_sharing_what_you_do_not_manage_is_403(
    alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    assert (await alice.share("bob", SHARED, "write"))[0] == 201

    status, body = await bob.share("carol", SHARED, "read")

    assert status == 403
    assert body == {"missing": [{"uri": SHARED, "action": "manage"}]}
    assert await carol.read_file("alice/shared/f.txt") == 403
    # One bad permission in a batch spoils the batch.
    status, _ = await alice.call(
        "POST",
        "users/carol/permissions",
        json=[
            {"uri": SHARED, "action": "read"},
            {"uri": "storage://default/bob", "action": "read"},
        ],
    )
    assert status == 403
    assert await carol.permissions(uri="storage:") == [
        {"uri": "storage://default/carol", "action": "manage"}
    ]


async def test_manage_allows_resharing(alice: ApiUser, bob: ApiUser, carol: ApiUser) -> None:
    assert await alice.upload("alice/shared/f.txt", b"x") == 201
    assert (await alice.share("bob", SHARED, "manage"))[0] == 201

    assert (await bob.share("carol", f"{SHARED}/f.txt", "read"))[0] == 201

    assert await carol.read_file("alice/shared/f.txt") == 200
    # The owner sees every share of her resources, whoever made it.
    assert {"user": "carol", "uri": f"{SHARED}/f.txt", "action": "read"} in await alice.shares()


async def test_revoke_needs_manage_or_the_receiver_themself(alice: ApiUser, bob: ApiUser) -> None:
    assert (await alice.share("bob", SHARED, "read"))[0] == 201
    status, body = await bob.call("DELETE", "users/alice/permissions", uri="role://alice")
    assert status == 403

    # Bob may give up what he was given.
    assert await bob.call("DELETE", "users/bob/permissions", uri=SHARED) == (204, None)
    status, body = await alice.call("DELETE", "users/bob/permissions", uri=SHARED)
    assert status == 404
    assert "holds no permission" in body["error"]


async def test_roles_give_members_their_grants_until_removed(
    alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    assert await alice.upload("alice/shared/f.txt", b"x") == 201
    assert await alice.call("POST", "users", json={"name": "alice/team"}) == (
        201,
        {"name": "alice/team"},
    )
    assert (await alice.share("alice:team", SHARED, "read"))[0] == 201
    assert await bob.read_file("alice/shared/f.txt") == 403

    # Granting the role makes a member, and membership is transitive.
    assert await alice.call("POST", "users", json={"name": "alice/team/core"}) == (
        201,
        {"name": "alice/team/core"},
    )
    assert (await alice.share("alice:team:core", "role://alice/team", "read"))[0] == 201
    assert (await alice.share("bob", "role://alice/team/core", "read"))[0] == 201
    assert await bob.read_file("alice/shared/f.txt") == 200
    assert await carol.read_file("alice/shared/f.txt") == 403

    status, body = await alice.call("GET", "users/alice/subroles")
    assert (status, body) == (200, {"subroles": ["alice/team", "alice/team/core"]})
    # A member reads but does not manage the role, nor alice's folder of the same name.
    status, _ = await bob.share("carol", "role://alice/team", "read")
    assert status == 403
    assert await bob.upload("alice/team/x", b"x") == 403

    assert await alice.call("DELETE", "users/bob/permissions", uri="role://alice/team/core") == (
        204,
        None,
    )
    assert await bob.read_file("alice/shared/f.txt") == 403

    assert (await alice.share("bob", "role://alice/team", "read"))[0] == 201
    assert await bob.read_file("alice/shared/f.txt") == 200
    assert await alice.call("DELETE", "users/alice:team") == (204, None)
    assert await bob.read_file("alice/shared/f.txt") == 403
    status, body = await alice.call("GET", "users/alice/subroles")
    assert body == {"subroles": []}


async def test_who_may_create_and_remove_roles(alice: ApiUser, bob: ApiUser) -> None:
    status, body = await bob.call("POST", "users", json={"name": "alice/team"})
    assert (status, body) == (403, {"missing": [{"uri": "role://alice/team", "action": "manage"}]})
    status, body = await bob.call("POST", "users", json={"name": "admins"})
    assert status == 403
    status, body = await alice.call("POST", "users", json={"name": "alice/Bad Name"})
    assert status == 400
    assert "invalid role name" in body["error"]
    status, body = await alice.call("POST", "users", json={"name": "bob"})
    assert status == 403  # bob's own role belongs to bob

    assert (await alice.call("POST", "users", json={"name": "alice/team"}))[0] == 201
    status, body = await alice.call("POST", "users", json={"name": "alice/team"})
    assert status == 409
    assert "exists already" in body["error"]

    assert (await bob.call("DELETE", "users/alice:team"))[0] == 403
    status, body = await alice.call("DELETE", "users/alice:nothing")
    assert status == 404
    assert "does not exist" in body["error"]
    # Users are not roles: they are removed by the administrator only.
    assert (await alice.call("DELETE", "users/alice"))[0] == 404
