"""The console's Buckets page over plain HTTP, on a real server and its embedded SeaweedFS:
listing, creating, public access, deleting, sharing, and the refusals of each (the API's)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import aiohttp

from neuro_platform.console.session import SESSION_COOKIE, csrf_token_of
from neuro_platform.testing import PlatformServer
from neuro_platform.testing.buckets import api_session, s3_client


def _name() -> str:
    return f"cb-{uuid.uuid4().hex[:10]}"


def _console(server: PlatformServer, *path: str) -> Any:
    url = server.base_url / "console" / "buckets"
    for part in path:
        url = url / part
    return url


def _api(server: PlatformServer, bucket_id: str) -> Any:
    return server.api_url / "buckets" / "buckets" / bucket_id


async def _create(server: PlatformServer, session: aiohttp.ClientSession, name: str) -> str:
    """Create through the console form; the bucket's id, read back from the API."""
    form = {"name": name}
    async with session.post(_console(server), data=form, allow_redirects=False) as response:
        assert response.status == 303, await response.text()
        assert response.headers["Location"] == "/console/buckets"
    async with session.get(_api(server, name)) as response:
        assert response.status == 200, await response.text()
        bucket: dict[str, Any] = await response.json()
    return str(bucket["id"])


async def _page(server: PlatformServer, session: aiohttp.ClientSession) -> str:
    async with session.get(_console(server)) as response:
        assert response.status == 200
        return await response.text()


def _row(page: str, bucket_id: str) -> str:
    rows: list[str] = [r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if bucket_id in r]
    assert len(rows) == 1, page
    return rows[0]


async def test_list_create_toggle_public_and_delete(
    buckets_platform_server: PlatformServer,
) -> None:
    server = buckets_platform_server
    name = _name()
    async with api_session(server, "alice") as alice:
        bucket_id = await _create(server, alice, name)
        # A bucket without a name: the form's empty field is "no name", not "".
        async with alice.post(_console(server), data={"name": ""}) as response:
            assert response.status == 200  # the page, after the redirect
        page = await _page(server, alice)
        row = _row(page, bucket_id)
        assert f">{name}<" in row
        assert ">alice<" in row
        assert ">private<" in row
        assert ">minio<" in row
        assert "<time datetime=" in row
        assert '<a href="/console/buckets">Buckets</a>' in page  # the nav link
        assert any(">–<" in r for r in re.findall(r"<tr>.*?</tr>", page, re.S))  # unnamed

        form = {"id": bucket_id, "public": "true"}
        url = _console(server, "public")
        async with alice.post(url, data=form, allow_redirects=False) as response:
            assert response.status == 303
        async with alice.get(_api(server, bucket_id)) as response:
            assert (await response.json())["public"] is True
        assert ">public<" in _row(await _page(server, alice), bucket_id)
        async with alice.post(url, data={"id": bucket_id, "public": "maybe"}) as response:
            assert response.status == 400
        async with alice.post(url, data={"id": bucket_id, "public": "false"}) as response:
            assert response.status == 200
        async with alice.get(_api(server, bucket_id)) as response:
            assert (await response.json())["public"] is False

        remove = _console(server, "remove")
        async with alice.post(remove, data={"id": bucket_id}, allow_redirects=False) as response:
            assert response.status == 303
        async with alice.get(_api(server, bucket_id)) as response:
            assert response.status == 404
        assert bucket_id not in await _page(server, alice)


async def test_a_non_empty_bucket_is_kept_with_a_clear_message(
    buckets_platform_server: PlatformServer,
) -> None:
    server = buckets_platform_server
    async with api_session(server, "alice") as alice:
        bucket_id = await _create(server, alice, _name())
        url = _api(server, bucket_id) / "make_tmp_credentials"
        async with alice.post(url) as response:
            creds = (await response.json())["credentials"]
        s3_client(creds).put_object(Bucket=creds["bucket_name"], Key="k", Body=b"data")
        async with alice.post(_console(server, "remove"), data={"id": bucket_id}) as response:
            assert response.status == 409
            text = await response.text()
        assert "The bucket is not empty" in text
        async with alice.get(_api(server, bucket_id)) as response:
            assert response.status == 200


async def test_bob_cannot_see_or_change_alices_bucket_until_shared(
    buckets_platform_server: PlatformServer,
) -> None:
    server = buckets_platform_server
    name = _name()
    async with api_session(server, "alice") as alice, api_session(server, "bob") as bob:
        bucket_id = await _create(server, alice, name)
        assert bucket_id not in await _page(server, bob)
        assert name not in await _page(server, bob)
        for path, form in (
            ("remove", {"id": bucket_id}),
            ("public", {"id": bucket_id, "public": "true"}),
        ):
            async with bob.post(_console(server, path), data=form) as response:
                assert response.status == 403, path
        for odd in ("bucket-nope", "", "a\x00b", "x" * 5000, "../alice/" + name):
            async with bob.post(_console(server, "remove"), data={"id": odd}) as response:
                assert response.status == 404, odd
        async with alice.get(_api(server, bucket_id)) as response:
            assert response.status == 200
            assert (await response.json())["public"] is False

        # Shared read through the common sharing page: bob sees it, still cannot delete it.
        uri = f"blob://default/alice/{name}"
        page = await _page(server, alice)
        assert "/console/sharing?uri=blob%3A%2F%2Fdefault%2Falice%2F" + name in page
        share = {"uri": uri, "user": "bob", "action": "read", "back": "/console/buckets"}
        share_url = server.base_url / "console" / "share"
        async with alice.post(share_url, data=share, allow_redirects=False) as response:
            assert response.status == 303
        assert ">alice<" in _row(await _page(server, bob), bucket_id)
        async with bob.post(_console(server, "remove"), data={"id": bucket_id}) as response:
            assert response.status == 403
        revoke = {"uri": uri, "user": "bob", "back": "/console/buckets"}
        async with alice.post(server.base_url / "console" / "revoke", data=revoke) as response:
            assert response.status == 200
        assert bucket_id not in await _page(server, bob)


async def test_a_form_without_the_csrf_token_changes_nothing(
    buckets_platform_server: PlatformServer,
) -> None:
    server = buckets_platform_server
    token = server.issue_token("alice")
    jar = aiohttp.CookieJar(unsafe=True)
    jar.update_cookies({SESSION_COOKIE: token}, server.base_url / "console")
    forged, kept = _name(), _name()
    async with (
        aiohttp.ClientSession(cookie_jar=jar) as session,
        api_session(server, "alice") as alice,
    ):
        async with session.post(_console(server), data={"name": forged}) as response:
            assert response.status == 403
        csrf = csrf_token_of(token)
        async with session.post(
            _console(server), data={"name": kept, "csrf": csrf}, allow_redirects=False
        ) as response:
            assert response.status == 303
        async with alice.get(_api(server, kept)) as response:
            bucket = await response.json()
        for path, form in (
            ("remove", {"id": bucket["id"]}),
            ("public", {"id": bucket["id"], "public": "true"}),
        ):
            async with session.post(_console(server, path), data=form) as response:
                assert response.status == 403, path
        page = await _page(server, session)
        async with alice.get(_api(server, kept)) as response:
            assert response.status == 200
            assert (await response.json())["public"] is False
        async with alice.get(_api(server, forged)) as response:
            assert response.status == 404
    assert forged not in page
    assert ">private<" in _row(page, bucket["id"])
    assert f'name="csrf" value="{csrf}"' in page


async def test_a_bucket_name_with_html_is_escaped(
    buckets_platform_server: PlatformServer,
) -> None:
    server = buckets_platform_server
    async with api_session(server, "alice") as alice:
        form = {"name": "<script>alert(1)</script>"}
        async with alice.post(_console(server), data=form) as response:
            assert response.status == 400
            text = await response.text()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "<script>alert" not in text
        assert "&lt;script&gt;" not in await _page(server, alice)  # nothing was created
