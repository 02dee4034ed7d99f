"""A job's HTTP port on a host of its own, and the platform's credentials kept from it: a real
server, a busybox httpd job whose CGI echoes what reached it and tries to set the platform's
cookies, and (marked `browser`) headless Chromium signed in on the platform's origin."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from yarl import URL

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.browser import headless_chromium
from neuro_platform.testing.loopback import loopback_session

from .client import JobsClient
from .conftest import busybox_job

PAGE_WAIT_S = 30
SERVE_TRIES = 600

# Echoes the credentials that reached the job, and tries to set the platform's cookies.
ECHO_CGI = r"""#!/bin/sh
printf "Content-Type: text/plain\r\n"
printf "Set-Cookie: neuro-auth-token=from-job; Path=/\r\n"
printf "Set-Cookie: Neuro-Job-Auth=from-job; Path=/\r\n"
printf "Set-Cookie: job-own=kept; Path=/\r\n"
printf "\r\n"
echo "authorization=${HTTP_AUTHORIZATION:-none}"
echo "cookie=${HTTP_COOKIE:-none}"
echo "referer=${HTTP_REFERER:-none}"
echo "query=${QUERY_STRING:-none}"
"""
# A page whose script reads what cookies it can and tries to overwrite the platform's.
PAGE = """<!DOCTYPE html>
<html><body><pre id="seen"></pre><script>
const seen = document.getElementById("seen");
seen.textContent = "cookies=" + document.cookie;
for (const domain of ["", "; domain=127.0.0.1", "; domain=localhost", "; domain=jobs.localhost"]) {
  document.cookie = "neuro-auth-token=set-by-job; path=/" + domain;
}
seen.dataset.done = "yes";
</script></body></html>
"""
SERVE = (
    'mkdir -p /www/cgi-bin; printf %s "$PAGE" > /www/index.html;'
    ' printf %s "$ECHO_CGI" > /www/cgi-bin/echo; chmod +x /www/cgi-bin/echo;'
    " httpd -f -p 8080 -h /www"
)


def serving_job(name: str, *, requires_auth: bool) -> dict[str, Any]:
    return dict(
        busybox_job(
            SERVE,
            name=name,
            env={"PAGE": PAGE, "ECHO_CGI": ECHO_CGI},
            http={"port": 8080, "requires_auth": requires_auth},
        )
    )


async def started(client: JobsClient, body: dict[str, Any]) -> dict[str, Any]:
    job = await client.submit(body)
    await client.wait_for(job["id"], ["running"])
    await wait_until_served(client.session, URL(job["http_url"]) / "index.html")
    return job


async def wait_until_served(session: aiohttp.ClientSession, url: URL) -> None:
    """The job's httpd may need a moment after the container starts (502 until then); a job
    the proxy never reaches fails the test instead of hanging it."""
    for _ in range(SERVE_TRIES):
        async with session.get(url) as response:
            if response.status != 502:
                assert response.status == 200, await response.text()
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} still answers 502 after {SERVE_TRIES} tries")


def echoed(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


async def test_http_url_is_the_jobs_own_host(alice: JobsClient) -> None:
    job = await alice.submit(serving_job("own-host", requires_auth=False))
    port = alice.server.base_url.port
    assert job["http_url"] == f"http://{job['id']}.jobs.localhost:{port}"
    assert job["http_url_named"] == f"http://own-host--alice.jobs.localhost:{port}"
    await alice.kill(job["id"])


# On Slurm the proxy reaches the job at its address on its owner's network on its node.
@pytest.mark.both_orchestrators
async def test_platform_credentials_never_reach_the_job(alice: JobsClient, bob: JobsClient) -> None:
    job = await started(alice, serving_job("echo", requires_auth=True))
    echo = URL(job["http_url_named"]) / "cgi-bin" / "echo"
    token_referer = f"{job['http_url_named']}/?neuro-auth-token={alice.token}"
    async with alice.session.get(
        echo.with_query(x="1"),
        headers={
            "Cookie": f"theirs=1; neuro-auth-token={alice.token}; neuro-job-auth={alice.token}",
            "Referer": token_referer,
        },
    ) as response:
        assert response.status == 200
        seen = echoed(await response.text())
        set_cookies = response.headers.getall("Set-Cookie")
    assert seen == {
        "authorization": "none",
        "cookie": "theirs=1",
        "referer": f"{job['http_url_named']}/?neuro-auth-token=REDACTED",
        "query": "x=1",
    }
    # The job's attempts on the platform's cookie names are dropped, its own cookie passes.
    assert set_cookies == ["job-own=kept; Path=/"]

    # On a job host the platform's path is the job's: no platform API answers there.
    async with alice.session.get(URL(job["http_url"]) / "api/v1/users/alice") as response:
        assert response.status == 404
        assert "alice" not in await response.text()

    async with loopback_session() as browser_like:
        # A browser presents the token once in the query; it gets a host-only cookie back.
        async with browser_like.get(
            echo.with_query({"x": "1", "neuro-auth-token": alice.token}), allow_redirects=False
        ) as traded:
            assert traded.status == 303
            assert traded.headers["Location"] == "/cgi-bin/echo?x=1"
            cookie = traded.headers["Set-Cookie"]
        assert cookie.startswith(f"neuro-job-auth={alice.token};")
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Domain" not in cookie
        async with browser_like.get(echo.with_query(x="1")) as response:
            assert response.status == 200
            assert echoed(await response.text())["cookie"] == "none"
        # Bob's token buys no cookie for alice's job.
        async with browser_like.get(
            echo.with_query({"neuro-auth-token": bob.token}), allow_redirects=False
        ) as refused:
            assert refused.status == 403
            assert "Set-Cookie" not in refused.headers
    await alice.kill(job["id"])


async def test_old_proxy_paths_redirect_to_the_jobs_host(shared_server: PlatformServer) -> None:
    port = shared_server.base_url.port
    async with aiohttp.ClientSession() as client:
        async with client.post(
            shared_server.base_url / "jobs-http/web--alice/a/b.html",
            params={"x": "1"},
            allow_redirects=False,
        ) as response:
            assert response.status == 307
            assert response.headers["Location"] == (
                f"http://web--alice.jobs.localhost:{port}/a/b.html?x=1"
            )
        # Nothing is ever served on the platform's origin, nor sent to a foreign host.
        async with client.get(
            shared_server.base_url / "jobs-http/evil.example.org/", allow_redirects=False
        ) as response:
            assert response.status == 404


async def test_platform_pages_cannot_be_framed(shared_server: PlatformServer) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(shared_server.base_url / "oauth/authorize") as response,
    ):
        assert response.content_type == "text/html"
        assert response.headers["X-Frame-Options"] == "DENY"
        csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp


async def test_access_log_redacts_the_token(alice: JobsClient) -> None:
    log_file = alice.server.log_file
    assert log_file is not None
    async with aiohttp.ClientSession() as client:
        url = alice.server.api_url / "users" / "alice"
        async with client.get(url, params={"neuro-auth-token": alice.token}) as response:
            assert response.status == 200
    while True:  # the access log line is written just after the answer
        log = log_file.read_text()
        if "GET /api/v1/users/alice?" in log:
            break
        await asyncio.sleep(0.05)
    assert alice.token not in log
    assert "GET /api/v1/users/alice?neuro-auth-token=REDACTED" in log


@pytest.mark.parametrize(
    "path",
    ["exec?tty=true", "exec", "attach?tty=true&stdout=0&stderr=0", "port_forward/not-a-port"],
)
async def test_interactive_sockets_check_the_token_before_parameters(
    shared_server: PlatformServer, path: str
) -> None:
    url = URL(f"{shared_server.api_url}/jobs/job-0b1e7f5c/{path}")
    async with aiohttp.ClientSession() as anonymous:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anonymous.ws_connect(url)
    assert refused.value.status == 401


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    with headless_chromium(tmp_path / "chromium-profile") as driver:
        yield driver


@pytest.mark.browser
async def test_a_jobs_page_cannot_read_or_set_the_platform_cookie(
    alice: JobsClient, browser: webdriver.Chrome
) -> None:
    job = await started(alice, serving_job("thief", requires_auth=True))
    job_url = URL(job["http_url_named"])
    platform_page = str(alice.server.base_url / "oauth/login-done")
    # Signed in on the platform's origin: the browser holds the platform's cookie.
    browser.get(platform_page)
    browser.add_cookie({"name": "neuro-auth-token", "value": alice.token, "path": "/"})

    # The user opens the private job with their token once; the proxy takes it out of the URL.
    browser.get(str(job_url.with_query({"neuro-auth-token": alice.token})))
    WebDriverWait(browser, PAGE_WAIT_S).until(
        lambda driver: driver.find_element(By.ID, "seen").get_attribute("data-done") == "yes"
    )
    assert alice.token not in browser.current_url
    seen = browser.find_element(By.ID, "seen").text
    assert seen.startswith("cookies=")
    assert alice.token not in seen  # neither the platform's cookie nor the proxy's

    browser.get(str(job_url / "cgi-bin" / "echo"))
    reached = echoed(browser.find_element(By.TAG_NAME, "pre").text)
    assert reached["authorization"] == "none"
    assert alice.token not in reached["cookie"]
    job_cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    assert "from-job" not in job_cookies.values()
    assert job_cookies.get("job-own") == "kept"

    browser.get(platform_page)
    platform_cookies = [c for c in browser.get_cookies() if c["name"] == "neuro-auth-token"]
    assert [c["value"] for c in platform_cookies] == [alice.token]
    await alice.kill(job["id"])
