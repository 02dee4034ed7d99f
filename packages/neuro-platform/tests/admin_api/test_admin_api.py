"""The admin API (docs/protocol.md §2.7) over HTTP on a real server: roles, quotas, credits.

Requests are raw, as `neuro-admin-client` sends them, so statuses and bodies are checked
exactly as the original client sees them. alice is the cluster admin (given by
`neuro-platform admin user role`), bob a plain user, carol a manager of the cluster, dave
the manager of org `acme`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yarl

from neuro_platform.testing import PlatformServer, running_platform

USERS = {name: f"{name}-password" for name in ("alice", "bob", "carol", "dave", "erin")}
CONFIG = {"clusters": [{"name": "default", "orgs": ["NO_ORG", "acme"]}]}


@dataclass
class Caller:
    name: str
    token: str
    admin_url: yarl.URL
    session: aiohttp.ClientSession

    async def call(
        self, method: str, path: str, *, json: Any = None, **query: str
    ) -> tuple[int, Any]:
        url = (self.admin_url / path).with_query(query)
        async with self.session.request(
            method, url, json=json, headers={"Authorization": f"Bearer {self.token}"}
        ) as response:
            body = None if response.status == 204 else await response.json()
            return response.status, body

    async def ok(self, method: str, path: str, *, json: Any = None, **query: str) -> Any:
        status, body = await self.call(method, path, json=json, **query)
        assert status in (200, 201), (status, body)
        return body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    with running_platform(tmp_path_factory.mktemp("admin"), config=CONFIG, users=USERS) as s:
        s.admin("user", "role", "alice", "admin")
        s.admin("user", "role", "carol", "manager")
        yield s


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def _caller(server: PlatformServer, session: aiohttp.ClientSession, name: str) -> Caller:
    return Caller(name, server.issue_token(name), server.api_url / "admin", session)


@pytest.fixture
def alice(server: PlatformServer, session: aiohttp.ClientSession) -> Caller:
    return _caller(server, session, "alice")


@pytest.fixture
def bob(server: PlatformServer, session: aiohttp.ClientSession) -> Caller:
    return _caller(server, session, "bob")


@pytest.fixture
def carol(server: PlatformServer, session: aiohttp.ClientSession) -> Caller:
    return _caller(server, session, "carol")


@pytest.fixture
def dave(server: PlatformServer, session: aiohttp.ClientSession) -> Caller:
    return _caller(server, session, "dave")


async def test_config_advertises_admin_url_only_when_authorized(
    server: PlatformServer, alice: Caller, session: aiohttp.ClientSession
) -> None:
    async with session.get(server.api_url / "config") as response:
        assert "admin_url" not in await response.json()
    headers = {"Authorization": f"Bearer {alice.token}"}
    async with session.get(server.api_url / "config", headers=headers) as response:
        body = await response.json()
    assert body["admin_url"] == str(server.api_url / "admin")


async def test_a_user_reads_their_own_account_with_the_defaults(bob: Caller) -> None:
    body = await bob.ok("GET", "clusters/default/users/bob", with_user_info="false")
    assert body == {
        "user_name": "bob",
        "role": "user",
        "cluster_name": "default",
        "quota": {},
        "balance": {"credits": None, "spent_credits": "0"},
    }


async def test_a_user_cannot_raise_their_own_quota_or_credits(bob: Caller) -> None:
    for path, payload in (
        ("clusters/default/users/bob/quota", {"quota": {"total_running_jobs": 100}}),
        ("clusters/default/users/bob/quota", {"additional_quota": {"total_running_jobs": 1}}),
        ("clusters/default/users/bob/balance", {"credits": "1000"}),
        ("clusters/default/orgs/acme/users/bob/quota", {"quota": {"total_running_jobs": 9}}),
        ("clusters/default/orgs/acme/quota", {"quota": {"total_running_jobs": 9}}),
        ("clusters/default/orgs/acme/balance", {"credits": "1000"}),
    ):
        status, body = await bob.call("PATCH", path, json=payload)
        assert status == 403, path
        assert "admin" in body["error"]
    status, _ = await bob.call(
        "PUT",
        "clusters/default/users/bob",
        json={"user_name": "bob", "role": "admin", "quota": {}, "balance": {}},
    )
    assert status == 403
    assert (await bob.ok("GET", "clusters/default/users/bob"))["role"] == "user"


async def test_a_user_sees_neither_others_accounts_nor_the_list(bob: Caller) -> None:
    assert (await bob.call("GET", "clusters/default/users/alice"))[0] == 403
    assert (await bob.call("GET", "clusters/default/users"))[0] == 403
    assert (await bob.call("GET", "clusters/default/orgs"))[0] == 403
    assert (await bob.call("GET", "orgs/acme/users"))[0] == 403


async def test_the_admin_sets_and_moves_quotas_and_credits(alice: Caller, bob: Caller) -> None:
    await alice.ok(
        "PATCH", "clusters/default/users/erin/quota", json={"quota": {"total_running_jobs": 2}}
    )
    moved = await alice.ok(
        "PATCH",
        "clusters/default/users/erin/quota",
        json={"additional_quota": {"total_running_jobs": 3}},
    )
    assert moved["quota"] == {"total_running_jobs": 5}
    await alice.ok("PATCH", "clusters/default/users/erin/balance", json={"credits": "10.5"})
    added = await alice.ok(
        "PATCH", "clusters/default/users/erin/balance", json={"additional_credits": "2"}
    )
    assert added["balance"] == {"credits": "12.5", "spent_credits": "0"}
    listed = await alice.ok("GET", "clusters/default/users", with_user_info="true")
    erin = next(u for u in listed if u["user_name"] == "erin")
    assert erin["user_info"]["email"] == ""
    # Unlimited again.
    unlimited = await alice.ok(
        "PATCH", "clusters/default/users/erin/balance", json={"credits": None}
    )
    assert unlimited["balance"]["credits"] is None


async def test_a_manager_manages_members_but_no_roles_above_and_no_quotas(
    carol: Caller, alice: Caller
) -> None:
    added = await carol.ok(
        "POST", "clusters/default/users", json={"user_name": "dave", "role": "member"}
    )
    assert (added["user_name"], added["role"]) == ("dave", "member")
    status, _ = await carol.call(
        "POST", "clusters/default/users", json={"user_name": "erin", "role": "admin"}
    )
    assert status == 403
    status, _ = await carol.call(
        "POST",
        "clusters/default/users",
        json={"user_name": "erin", "role": "user", "quota": {"total_running_jobs": 50}},
    )
    assert status == 403
    # Not even herself: a manager promoting itself to admin.
    status, _ = await carol.call(
        "PUT", "clusters/default/users/carol", json={"user_name": "carol", "role": "admin"}
    )
    assert status == 403
    status, _ = await carol.call("DELETE", "clusters/default/users/alice")
    assert status == 403
    assert (await carol.call("DELETE", "clusters/default/users/dave"))[0] == 204
    assert (await alice.ok("GET", "clusters/default/users/alice"))["role"] == "admin"


async def test_org_managers_manage_their_org_only(alice: Caller, dave: Caller) -> None:
    await alice.ok("POST", "orgs/acme/users", json={"user_name": "dave", "role": "manager"})
    added = await dave.ok("POST", "orgs/acme/users", json={"user_name": "erin", "role": "user"})
    assert added == {"org_name": "acme", "user_name": "erin", "role": "user"}
    status, _ = await dave.call(
        "PUT", "orgs/acme/users/erin", json={"user_name": "erin", "role": "admin"}
    )
    assert status == 403
    # An org manager adds users of the org to the cluster, without quotas.
    await dave.ok(
        "POST",
        "clusters/default/users",
        json={"user_name": "erin", "role": "user", "org_name": "acme"},
    )
    status, _ = await dave.call(
        "PATCH",
        "clusters/default/orgs/acme/users/erin/quota",
        json={"quota": {"total_running_jobs": 3}},
    )
    assert status == 403
    assert (await dave.call("GET", "clusters/default/users"))[0] == 403  # outside the org


async def test_org_cluster_quota_and_defaults(alice: Caller, bob: Caller) -> None:
    await alice.ok(
        "PATCH", "clusters/default/orgs/acme/quota", json={"quota": {"total_running_jobs": 4}}
    )
    await alice.ok(
        "PATCH",
        "clusters/default/orgs/acme/defaults",
        json={"credits": "7", "quota": {"total_running_jobs": 1}, "default_role": "user"},
    )
    org = await bob.ok("GET", "clusters/default/orgs/acme")
    assert org["quota"] == {"total_running_jobs": 4}
    assert (org["default_credits"], org["default_quota"]) == ("7", {"total_running_jobs": 1})
    # A user of the org without an account of their own gets the org's defaults.
    mine = await bob.ok("GET", "clusters/default/orgs/acme/users/bob")
    assert mine["quota"] == {"total_running_jobs": 1}
    assert mine["balance"]["credits"] == "7"
    listed = await alice.ok("GET", "clusters/default/orgs")
    assert [o["org_name"] for o in listed] == ["acme"]


async def test_bad_input_is_a_4xx_with_an_error(alice: Caller) -> None:
    for method, path, payload in (
        ("PATCH", "clusters/default/users/bob/quota", {"quota": {"total_running_jobs": -1}}),
        ("PATCH", "clusters/default/users/bob/quota", {"quota": {"total_running_jobs": 2**40}}),
        ("PATCH", "clusters/default/users/bob/quota", {}),
        ("PATCH", "clusters/nope/orgs/acme/defaults", {"quota": {"total_running_jobs": None}}),
        ("PATCH", "clusters/default/users/bob/balance", {"credits": "lots"}),
        ("PATCH", "clusters/default/users/bob/balance", {"credits": "NaN"}),
        ("PATCH", "clusters/default/users/bob/balance", {"credits": "1e99"}),
        ("POST", "clusters/default/users", {"user_name": "bob", "role": "emperor"}),
        ("POST", "clusters", {"name": "other"}),
        ("DELETE", "orgs/acme", None),
        ("POST", "orgs", {"name": "new"}),
    ):
        status, body = await alice.call(method, path, json=payload)
        assert 400 <= status < 500, (path, status, body)
        assert isinstance(body["error"], str), (path, body)
    for path in ("clusters/nope/users/bob", "clusters/default/orgs/nope", "orgs/nope"):
        assert (await alice.call("GET", path))[0] == 404, path
    status, _ = await alice.call(
        "PATCH", "clusters/default/users/nobody/quota", json={"quota": {"total_running_jobs": 1}}
    )
    assert status == 404


async def test_every_call_needs_a_token(
    server: PlatformServer, session: aiohttp.ClientSession
) -> None:
    async with session.get(server.api_url / "admin" / "clusters") as response:
        assert response.status == 401


async def test_a_new_account_of_a_removed_admins_name_is_no_admin(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    with running_platform(tmp_path, config=CONFIG, users={"zed": "zed-password"}) as server:
        server.admin("user", "role", "zed", "admin")
        zed = _caller(server, session, "zed")
        await zed.ok("POST", "orgs/acme/users", json={"user_name": "zed", "role": "admin"})
        assert (await zed.ok("GET", "clusters/default/users/zed"))["role"] == "admin"
        server.admin("user", "remove", "zed", "--wait-s", "0")
        server.create_user("zed", "zed-password-2")
        again = _caller(server, session, "zed")
        assert (await again.ok("GET", "clusters/default/users/zed"))["role"] == "user"
        assert (await again.call("GET", "orgs/acme/users/zed"))[0] == 404
        assert (await again.call("GET", "clusters/default/users"))[0] == 403


async def test_a_service_account_reads_its_own_account(
    server: PlatformServer, alice: Caller, session: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": f"Bearer {alice.token}"}
    async with session.post(
        server.api_url / "service_accounts", json={"name": "ci"}, headers=headers
    ) as response:
        assert response.status == 201
        passed = json.loads(base64.b64decode((await response.json())["token"]))
    account = Caller("alice/service-accounts/ci", passed["token"], alice.admin_url, session)
    body = await account.ok("GET", "clusters/default/users/alice/service-accounts/ci")
    assert (body["user_name"], body["role"]) == ("alice/service-accounts/ci", "user")
    status, _ = await account.call(
        "PATCH",
        "clusters/default/users/alice/service-accounts/ci/quota",
        json={"quota": {"total_running_jobs": 5}},
    )
    assert status in (403, 404, 405)
