"""The console over plain HTTP: signing in, the CSRF rules, the security headers, ETags."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import aiohttp
import pytest
from yarl import URL

from neuro_platform.console.session import SESSION_COOKIE, csrf_token_of
from neuro_platform.testing import PlatformServer

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def _bearer(server: PlatformServer, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.issue_token(user)}"}


async def test_a_page_without_a_session_sends_the_browser_to_sign_in(
    console_server: PlatformServer,
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(
            console_server.base_url / "console" / "jobs", allow_redirects=False
        ) as response:
            assert response.status == 302
            assert response.headers["Location"].startswith("/console/login?next=")
        async with session.get(
            console_server.base_url / "console" / "login", allow_redirects=False
        ) as response:
            assert response.status == 303
            target = URL(response.headers["Location"])
            assert target.path == "/oauth/authorize"
            assert target.query["redirect_uri"] == str(
                console_server.base_url / "console" / "callback"
            )
            cookie = response.cookies["neuro-console-login"]
            assert cookie["httponly"]
            assert cookie["samesite"] == "Strict"
        async with session.get(console_server.base_url, allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"] == "/console/jobs"


async def test_a_bearer_token_signs_in_with_a_strict_csp(console_server: PlatformServer) -> None:
    async with (
        aiohttp.ClientSession(headers=_bearer(console_server, "alice")) as session,
        session.get(console_server.base_url / "console" / "jobs") as response,
    ):
        assert response.status == 200
        text = await response.text()
        csp = response.headers["Content-Security-Policy"]
    assert 'id="user">alice<' in text
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in text  # only <script src=...>: nothing inline


async def test_a_forged_token_is_not_signed_in(console_server: PlatformServer) -> None:
    headers = {"Authorization": "Bearer not-a-token"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.post(
            console_server.base_url / "console" / "secrets", data={"key": "K", "value": "v"}
        ) as response,
    ):
        assert response.status == 401


async def test_a_session_cookie_needs_the_csrf_token_and_our_origin(
    console_server: PlatformServer,
) -> None:
    token = console_server.issue_token("alice")
    jar = aiohttp.CookieJar(unsafe=True)
    jar.update_cookies({SESSION_COOKIE: token}, console_server.base_url / "console")
    secrets_url = console_server.base_url / "console" / "secrets"
    base = console_server.base_url
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        form = {"key": "FORGED", "value": "v"}
        async with session.post(secrets_url, data=form, allow_redirects=False) as response:
            assert response.status == 403  # no token
        form["csrf"] = "A" * 43
        async with session.post(secrets_url, data=form, allow_redirects=False) as response:
            assert response.status == 403  # a wrong one
        form["csrf"] = csrf_token_of(token)
        evil = {"Origin": "http://evil.example"}
        async with session.post(
            secrets_url, data=form, headers=evil, allow_redirects=False
        ) as response:
            assert response.status == 403  # the right one, from another origin
        async with session.get(secrets_url) as response:
            assert "FORGED" not in await response.text()
        form["key"] = "ACCEPTED"
        own = {"Origin": str(base.origin())}
        async with session.post(
            secrets_url, data=form, headers=own, allow_redirects=False
        ) as response:
            assert response.status == 303
        async with session.get(secrets_url) as response:
            page = await response.text()
    assert "ACCEPTED" in page
    assert "FORGED" not in page
    assert 'name="csrf" value="' + csrf_token_of(token) in page


async def test_a_secret_value_never_comes_back(console_server: PlatformServer) -> None:
    async with aiohttp.ClientSession(headers=_bearer(console_server, "bob")) as session:
        url = console_server.base_url / "console" / "secrets"
        async with session.post(url, data={"key": "DB_PASSWORD", "value": "hunter2-s3cr3t"}) as r:
            page = await r.text()
        assert r.status == 200
        assert "DB_PASSWORD" in page
        assert "hunter2-s3cr3t" not in page


async def test_the_live_jobs_table_answers_304_while_nothing_changed(
    console_server: PlatformServer,
) -> None:
    async with aiohttp.ClientSession(headers=_bearer(console_server, "alice")) as session:
        url = console_server.base_url / "console" / "jobs" / "rows"
        async with session.get(url) as response:
            etag = response.headers["ETag"]
            assert response.status == 200
        async with session.get(url, headers={"If-None-Match": etag}) as response:
            assert response.status == 304
        # Hostile: another user's tag is not this user's page.
    async with (
        aiohttp.ClientSession(headers=_bearer(console_server, "bob")) as session,
        session.get(url, headers={"If-None-Match": etag}) as response,
    ):
        assert response.status == 200


async def test_the_callback_refuses_a_login_it_did_not_start(
    console_server: PlatformServer,
) -> None:
    async with aiohttp.ClientSession() as session:
        url = (console_server.base_url / "console" / "callback").with_query(
            code="x", state="forged"
        )
        async with session.get(url, allow_redirects=False) as response:
            assert response.status == 400
            assert SESSION_COOKIE not in response.cookies


async def test_bad_input_is_a_4xx_page(console_server: PlatformServer) -> None:
    async with aiohttp.ClientSession(headers=_bearer(console_server, "alice")) as session:
        base = console_server.base_url / "console"
        for url, status in [
            (base / "jobs" / "job-nope", 404),
            (base.with_path("/console/jobs").with_query(page="x"), 400),
            (base.with_path("/console/jobs").with_query(status="bogus"), 400),
            (base / "storage" / "bob", 403),
            (base.with_path("/console/sharing").with_query(uri="nope"), 400),
        ]:
            async with session.get(url) as response:
                assert response.status == status, url
                assert re.search(r'role="alert"', await response.text())


async def test_a_hostile_file_name_is_shown_as_text(console_server: PlatformServer) -> None:
    name = '<img src=x onerror="alert(1)">.txt'
    async with aiohttp.ClientSession(headers=_bearer(console_server, "alice")) as session:
        api = console_server.api_url / "storage" / "alice" / "xss" / name
        async with session.put(api.with_query(op="CREATE"), data=b"x") as response:
            assert response.status == 201
        async with session.get(console_server.base_url / "console/storage/alice/xss") as response:
            page = await response.text()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.txt" in page


async def _push_image(server: PlatformServer, user: str, repository: str) -> None:
    """A tiny image (a config and no layers) through the platform's `/v2/` as `user`."""
    auth = "Basic " + base64.b64encode(f"token:{server.issue_token(user)}".encode()).decode()
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    v2 = f"{server.base_url}/v2/{repository}"
    async with aiohttp.ClientSession(headers={"Authorization": auth}) as session:
        async with session.post(f"{v2}/blobs/uploads/") as response:
            assert response.status == 202, await response.text()
            location = response.headers["Location"]
        put = URL(f"{server.base_url}{location}", encoded=True).update_query(digest=digest)
        async with session.put(put, data=config) as response:
            assert response.status == 201, await response.text()
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": digest,
            },
            "layers": [],
        }
        async with session.put(
            f"{v2}/manifests/v1", data=json.dumps(manifest), headers={"Content-Type": MANIFEST_V2}
        ) as response:
            assert response.status == 201, await response.text()


@pytest.mark.registry
async def test_the_images_page_lists_only_readable_images(console_server: PlatformServer) -> None:
    await _push_image(console_server, "alice", "alice/console-image")
    await _push_image(console_server, "bob", "bob/hidden-image")
    async with (
        aiohttp.ClientSession(headers=_bearer(console_server, "alice")) as session,
        session.get(console_server.base_url / "console" / "images") as response,
    ):
        assert response.status == 200
        page = await response.text()
    assert "image://default/alice/console-image" in page
    assert "hidden-image" not in page


async def test_signing_in_returns_only_to_a_console_page(console_server: PlatformServer) -> None:
    async with aiohttp.ClientSession() as session:
        for hostile in ("https://evil.example/", "//evil.example/console/", "/console//evil"):
            url = (console_server.base_url / "console" / "login").with_query(next=hostile)
            async with session.get(url, allow_redirects=False) as response:
                assert response.status == 303
                kept = response.cookies["neuro-console-login"].value.split(" ")[2]
            assert kept == "/console/jobs", hostile
        url = (console_server.base_url / "console" / "login").with_query(next="/console/secrets")
        async with session.get(url, allow_redirects=False) as response:
            assert response.cookies["neuro-console-login"].value.split(" ")[2] == "/console/secrets"
