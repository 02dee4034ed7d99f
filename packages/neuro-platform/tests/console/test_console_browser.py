"""The console in real headless Chromium against the real server and dockerd (issue #19).

Every test keeps screenshots of the pages it saw under its own output folder
(`<tmp_path>/screenshots`); a few of them illustrate docs/console.md.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait
from yarl import URL

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.browser import headless_chromium
from neuro_platform.testing.fixtures import USERS

pytestmark = pytest.mark.browser

WAIT_S = 90  # an upper bound for a page to get somewhere, never a measured time
BUSYBOX = "neuro-base/busybox:latest"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path / "chromium-profile", ("--window-size=1280,900",)) as driver:
        yield driver


def wait(browser: WebDriver, condition: Callable[[WebDriver], Any]) -> Any:
    def tolerant(driver: WebDriver) -> Any:
        try:
            return condition(driver)
        except StaleElementReferenceException:  # htmx swapped the element meanwhile
            return False

    return WebDriverWait(browser, WAIT_S).until(tolerant)


def text_of(browser: WebDriver, element_id: str) -> str:
    found = browser.find_elements(By.ID, element_id)
    return found[0].text if found else ""


def sign_in(browser: WebDriver, server: PlatformServer, user: str) -> None:
    browser.get(str(server.base_url / "console" / "jobs"))
    wait(browser, lambda d: d.find_elements(By.ID, "username"))
    browser.find_element(By.ID, "username").send_keys(user)
    browser.find_element(By.ID, "password").send_keys(USERS[user])
    browser.find_element(By.ID, "submit").click()
    wait(browser, lambda d: text_of(d, "user") == user)
    assert URL(browser.current_url).path == "/console/jobs"


def sign_out(browser: WebDriver) -> None:
    browser.find_element(By.CSS_SELECTOR, "form.logout button").click()
    wait(browser, lambda d: d.find_elements(By.ID, "username"))


def shot(browser: WebDriver, folder: Path, name: str) -> None:
    """The whole page, not just the window (Chromium's DevTools protocol)."""
    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    image = browser.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    (folder / f"{name}.png").write_bytes(base64.b64decode(image["data"]))


async def api(server: PlatformServer, user: str, method: str, path: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {server.issue_token(user)}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.request(method, server.api_url.with_path(path), **kw) as response,
    ):
        assert response.status < 300, await response.text()
        return await response.json() if response.content_type == "application/json" else None


async def test_run_a_job_from_the_form_watch_its_log_and_chart_then_kill_it(
    console_server: PlatformServer, browser: WebDriver, screenshots: Path
) -> None:
    sign_in(browser, console_server, "alice")
    browser.find_element(By.ID, "run-link").click()
    wait(browser, lambda d: d.find_elements(By.ID, "run-form"))
    browser.find_element(By.ID, "image").send_keys(BUSYBOX)
    browser.find_element(By.ID, "command").send_keys(
        "sh -c 'echo hello-from-the-console; while true; do echo tick; sleep 1; done'"
    )
    browser.find_element(By.ID, "name").send_keys("console-demo")
    browser.find_element(By.ID, "tags").send_keys("demo console")
    browser.find_element(By.ID, "life-span").send_keys("30")
    shot(browser, screenshots, "run-form")
    browser.find_element(By.ID, "run").click()

    wait(browser, lambda d: URL(d.current_url).path.startswith("/console/jobs/job-"))
    job_id = URL(browser.current_url).name
    wait(browser, lambda d: text_of(d, "status") == "running")  # htmx swaps the status in
    wait(browser, lambda d: "hello-from-the-console" in text_of(d, "log"))
    chart = browser.find_element(By.ID, "chart")
    wait(browser, lambda d: int(chart.get_attribute("data-points") or 0) >= 2)
    assert browser.find_elements(By.CSS_SELECTOR, "#chart canvas")
    shot(browser, screenshots, "job-running")

    browser.get(str(console_server.base_url / "console" / "jobs"))
    row = wait(browser, lambda d: d.find_elements(By.LINK_TEXT, "console-demo"))
    assert row
    shot(browser, screenshots, "jobs-list")

    browser.get(str(console_server.base_url / "console" / "jobs" / job_id))
    minutes = wait(browser, lambda d: d.find_elements(By.ID, "bump-minutes"))[0]
    minutes.clear()
    minutes.send_keys("45")
    browser.find_element(By.ID, "bump").click()
    wait(browser, lambda d: d.find_elements(By.ID, "kill"))
    job = await api(console_server, "alice", "GET", f"/api/v1/jobs/{job_id}")
    assert job["max_run_time_minutes"] == 30 + 45

    browser.find_element(By.ID, "kill").click()
    wait(browser, lambda d: text_of(d, "status") == "cancelled")
    # The log of a finished job is the archived one, whole.
    wait(browser, lambda d: d.find_element(By.ID, "log").get_attribute("data-done") == "true")
    assert "hello-from-the-console" in text_of(browser, "log")
    assert not browser.find_elements(By.ID, "kill")
    shot(browser, screenshots, "job-killed")
    job = await api(console_server, "alice", "GET", f"/api/v1/jobs/{job_id}")
    assert job["status"] == "cancelled"
    assert job["tags"] == ["console", "demo"]


async def test_upload_a_folder_and_download_a_file_back_byte_identical(
    console_server: PlatformServer, browser: WebDriver, screenshots: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "dataset"
    (folder / "sub").mkdir(parents=True)
    payload = os.urandom(3 * 1024 * 1024 + 17)  # big enough to be streamed, not bundled
    (folder / "weights.bin").write_bytes(payload)
    (folder / "sub" / "notes.txt").write_text("ünïcode notes\n")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )

    sign_in(browser, console_server, "alice")
    browser.get(str(console_server.base_url / "console" / "storage"))
    wait(browser, lambda d: URL(d.current_url).path == "/console/storage/alice")
    browser.find_element(By.ID, "upload-folder").send_keys(str(folder))
    wait(browser, lambda d: d.find_elements(By.LINK_TEXT, "dataset/"))
    shot(browser, screenshots, "storage")

    browser.find_element(By.LINK_TEXT, "dataset/").click()
    wait(browser, lambda d: d.find_elements(By.LINK_TEXT, "weights.bin"))
    assert browser.find_elements(By.LINK_TEXT, "sub/")
    assert "used of" in text_of(browser, "usage")
    browser.find_element(By.LINK_TEXT, "weights.bin").click()
    downloaded = downloads / "weights.bin"
    wait(browser, lambda d: downloaded.exists() and downloaded.stat().st_size == len(payload))
    assert downloaded.read_bytes() == payload

    # Rename, then delete.
    row = browser.find_element(By.XPATH, "//tr[td/a[text()='weights.bin']]")
    name = row.find_element(By.NAME, "name")
    name.clear()
    name.send_keys("renamed.bin")
    row.find_element(By.XPATH, ".//button[text()='Rename']").click()
    wait(browser, lambda d: d.find_elements(By.LINK_TEXT, "renamed.bin"))
    browser.find_element(By.ID, "delete-renamed.bin").click()
    wait(browser, lambda d: d.find_elements(By.ID, "files"))
    assert not browser.find_elements(By.LINK_TEXT, "renamed.bin")
    listing = await api(
        console_server,
        "alice",
        "GET",
        "/api/v1/storage/alice/dataset/sub",
        params={"op": "LISTSTATUS"},
    )
    assert [s["path"] for s in listing["FileStatuses"]["FileStatus"]] == ["notes.txt"]


async def test_add_and_remove_a_secret(
    console_server: PlatformServer, browser: WebDriver, screenshots: Path
) -> None:
    sign_in(browser, console_server, "alice")
    browser.get(str(console_server.base_url / "console" / "secrets"))
    browser.find_element(By.ID, "secret-key").send_keys("API_KEY")
    browser.find_element(By.ID, "secret-value").send_keys("value-never-shown")
    browser.find_element(By.ID, "add-secret").click()
    wait(browser, lambda d: "API_KEY" in text_of(d, "secrets"))
    assert "value-never-shown" not in browser.page_source
    shot(browser, screenshots, "secrets")
    browser.find_element(By.ID, "remove-API_KEY").click()
    wait(browser, lambda d: "API_KEY" not in text_of(d, "secrets"))
    secrets = await api(console_server, "alice", "GET", "/api/v1/secrets")
    assert "API_KEY" not in [s["key"] for s in secrets]


async def test_another_user_sees_a_job_only_once_it_is_shared(
    console_server: PlatformServer, browser: WebDriver, screenshots: Path
) -> None:
    job = await api(
        console_server,
        "alice",
        "POST",
        "/api/v1/jobs",
        params={"from_preset": ""},
        json={
            "image": BUSYBOX,
            "command": "sleep 600",
            "preset_name": "small",
            "name": "private-one",
        },
    )
    try:
        sign_in(browser, console_server, "bob")
        assert job["id"] not in browser.page_source
        browser.get(str(console_server.base_url / "console" / "jobs" / job["id"]))
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
        assert "private-one" not in browser.page_source
        shot(browser, screenshots, "not-shared")
        browser.get(str(console_server.base_url / "console" / "jobs"))
        sign_out(browser)

        sign_in(browser, console_server, "alice")
        browser.get(str(console_server.base_url / "console" / "jobs" / job["id"]))
        browser.find_element(By.ID, "share-user").send_keys("bob")
        Select(browser.find_element(By.ID, "share-action")).select_by_value("read")
        browser.find_element(By.ID, "share").click()
        wait(browser, lambda d: "bob" in text_of(d, "shares"))
        shot(browser, screenshots, "job-shared")
        sign_out(browser)

        sign_in(browser, console_server, "bob")
        wait(browser, lambda d: d.find_elements(By.LINK_TEXT, "private-one"))
        browser.find_element(By.LINK_TEXT, "private-one").click()
        wait(browser, lambda d: text_of(d, "status") in ("pending", "running"))
        assert not browser.find_elements(By.ID, "share-form") or "bob" not in text_of(
            browser, "shares"
        )  # bob reads the job; its shares are alice's to see
        # Reading is not writing: bob's kill is refused, and the job goes on.
        browser.find_element(By.ID, "kill").click()
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
        current = await api(console_server, "alice", "GET", f"/api/v1/jobs/{job['id']}")
        assert current["status"] in ("pending", "running")
    finally:
        await api(console_server, "alice", "DELETE", f"/api/v1/jobs/{job['id']}")


class _Attacker(BaseHTTPRequestHandler):
    """A page of another origin that posts a form to the console as soon as it loads."""

    target = ""

    def do_GET(self) -> None:
        if self.path == "/submit.js":
            body, kind = b"document.forms[0].submit();", "text/javascript"
        else:
            body = (
                f'<form method="post" action="{self.target}">'
                '<input name="key" value="STOLEN"><input name="value" value="x">'
                '<input name="csrf" value="guessed"></form><script src="/submit.js"></script>'
            ).encode()
            kind = "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


async def test_a_form_posted_from_another_origin_changes_nothing(
    console_server: PlatformServer, browser: WebDriver, screenshots: Path
) -> None:
    sign_in(browser, console_server, "alice")
    _Attacker.target = str(console_server.base_url / "console" / "secrets")
    attacker = ThreadingHTTPServer(("127.0.0.1", 0), _Attacker)
    thread = threading.Thread(target=attacker.serve_forever, daemon=True)
    thread.start()
    try:
        # `localhost` is another origin (and site) than the platform's `127.0.0.1`.
        browser.get(f"http://localhost:{attacker.server_address[1]}/")
        wait(browser, lambda d: URL(d.current_url).path == "/console/secrets")
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
        shot(browser, screenshots, "csrf-refused")
    finally:
        attacker.shutdown()
        thread.join()
        attacker.server_close()
    secrets = await api(console_server, "alice", "GET", "/api/v1/secrets")
    assert "STOLEN" not in json.dumps(secrets)


async def test_the_jobs_list_updates_itself_and_fits_a_narrow_screen(
    console_server: PlatformServer, browser: WebDriver, screenshots: Path
) -> None:
    browser.set_window_size(390, 844)  # a phone
    sign_in(browser, console_server, "alice")
    job = await api(
        console_server,
        "alice",
        "POST",
        "/api/v1/jobs",
        params={"from_preset": ""},
        json={"image": BUSYBOX, "command": "sleep 600", "preset_name": "small", "name": "live"},
    )
    try:
        # No reload: htmx brings the new job in.
        wait(browser, lambda d: d.find_elements(By.LINK_TEXT, "live"))
        width = browser.execute_script("return document.documentElement.clientWidth")
        assert browser.execute_script("return document.body.scrollWidth") <= width
        shot(browser, screenshots, "jobs-narrow")
        # The keyboard reaches the job: its link takes the focus and Enter follows it.
        link = browser.find_element(By.LINK_TEXT, "live")
        browser.execute_script("arguments[0].focus()", link)
        assert browser.switch_to.active_element == link
        link.send_keys(Keys.ENTER)
        wait(browser, lambda d: URL(d.current_url).name == job["id"])
    finally:
        await api(console_server, "alice", "DELETE", f"/api/v1/jobs/{job['id']}")
