"""The OAuth2 flows driven by a real headless Chromium filling our server's login form."""

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from yarl import URL

import neuro_sdk
from neuro_platform.testing.browser import headless_chromium
from neuro_platform.testing.server import PlatformServer, running_platform
from neuro_sdk import AuthError, Factory
from neuro_sdk._config_db import load_config_data

pytestmark = pytest.mark.browser

PAGE_WAIT_S = 30


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    with headless_chromium(tmp_path / "chromium-profile") as driver:
        yield driver


def submit_login_form(driver: webdriver.Chrome, url: URL, username: str, password: str) -> None:
    """Open the authorize page and log in, as a user would."""
    driver.get(str(url))
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "submit").click()


def wait_for(driver: webdriver.Chrome, condition: Callable[[webdriver.Chrome], bool]) -> None:
    WebDriverWait(driver, PAGE_WAIT_S).until(condition)


async def test_browser_login_with_pkce(
    platform_server: PlatformServer, config_dir: Path, browser: webdriver.Chrome
) -> None:
    opened: list[URL] = []

    def log_in(url: URL) -> None:
        submit_login_form(browser, url, "alice", "alice-password")
        # The local callback answers with a redirect to the server's "done" page.
        wait_for(browser, lambda driver: "/oauth/login-done" in driver.current_url)

    async def show_browser(url: URL) -> None:
        opened.append(url)
        # In a thread: the SDK's callback server must keep answering meanwhile.
        await asyncio.to_thread(log_in, url)

    await neuro_sdk.login(show_browser, url=platform_server.api_url, path=config_dir)

    [url] = opened
    assert url.with_query(None) == platform_server.base_url / "oauth/authorize"
    assert url.query["code_challenge_method"] == "S256"
    # The first of the server's callback ports that is free (another program, or a test's
    # own outgoing connection, may hold 54540).
    ports = ("54540", "54541", "54542")
    assert url.query["redirect_uri"] in [f"http://127.0.0.1:{port}" for port in ports]
    stored = load_config_data(config_dir)
    assert stored.auth_token.refresh_token, "the code exchange returns a refresh token"
    async with neuro_sdk.get(path=config_dir) as client:
        assert client.username == "alice"
        assert client.config.cluster_name == "default"


async def test_headless_login_with_the_code_from_the_page(
    platform_server: PlatformServer, config_dir: Path, browser: webdriver.Chrome
) -> None:
    def log_in(url: URL) -> str:
        submit_login_form(browser, url, "bob", "bob-password")
        wait_for(browser, lambda driver: bool(driver.find_elements(By.ID, "code")))
        return str(browser.find_element(By.ID, "code").text)

    async def get_auth_code(url: URL) -> str:
        assert url.query["redirect_uri"] == str(platform_server.base_url / "oauth/show-code")
        return await asyncio.to_thread(log_in, url)

    await neuro_sdk.login_with_headless(get_auth_code, url=platform_server.api_url, path=config_dir)
    async with neuro_sdk.get(path=config_dir) as client:
        assert client.username == "bob"


async def test_wrong_password_issues_no_code(
    platform_server: PlatformServer, config_dir: Path, browser: webdriver.Chrome
) -> None:
    def log_in(url: URL) -> str:
        submit_login_form(browser, url, "alice", "not-her-password")
        wait_for(browser, lambda driver: bool(driver.find_elements(By.ID, "error")))
        try:
            return str(browser.find_element(By.ID, "code").text)
        except NoSuchElementException:
            return ""  # what a user types at the prompt when the page shows no code

    async def get_auth_code(url: URL) -> str:
        return await asyncio.to_thread(log_in, url)

    with pytest.raises(AuthError, match="No authorization code"):
        await Factory(config_dir).login_headless(get_auth_code, url=platform_server.api_url)
    assert browser.find_element(By.ID, "password").get_attribute("value") == ""
    assert not Factory(config_dir).is_config_present


async def test_token_is_refreshed_after_expiry(
    tmp_path: Path, config_dir: Path, browser: webdriver.Chrome
) -> None:
    with running_platform(tmp_path, config={"auth": {"access_token_ttl_s": 2}}) as server:
        server.create_user("alice", "alice-password")

        def log_in(url: URL) -> str:
            submit_login_form(browser, url, "alice", "alice-password")
            wait_for(browser, lambda driver: bool(driver.find_elements(By.ID, "code")))
            return str(browser.find_element(By.ID, "code").text)

        async def get_auth_code(url: URL) -> str:
            return await asyncio.to_thread(log_in, url)

        await Factory(config_dir).login_headless(get_auth_code, url=server.api_url)
        first = load_config_data(config_dir).auth_token
        # Stored expiry is three quarters of the two-second lifetime.
        assert first.expiration_time - time.time() <= 1.5
        await asyncio.sleep(2.5)  # let the access token itself expire on the server too

        async with neuro_sdk.get(path=config_dir) as client:
            token = await client.config.token()
            assert token != first.token
            await client.config.fetch()  # the server accepts the refreshed token
            assert client.username == "alice"
        stored = load_config_data(config_dir).auth_token
        assert stored.token == token
        assert stored.refresh_token == first.refresh_token
