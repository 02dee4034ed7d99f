"""Logging in and out: ``neuro config login*`` / ``logout`` and the top-level shortcuts."""

import click
from yarl import URL

import neuro_sdk
from neuro_cli.browser import BrowserUnavailableError, open_browser, open_browser_if_possible
from neuro_cli.click_types import API_URL
from neuro_cli.errors import UserError
from neuro_cli.prompts import ask
from neuro_cli.root import Root
from neuro_cli.runner import async_command

# The SDK's documented default; our demo and tests always pass their own URL. A callable,
# so that defining the command does not import the SDK's HTTP stack (it defines the URL).
url_argument = click.argument(
    "url", required=False, default=lambda: str(neuro_sdk.DEFAULT_API_URL), type=API_URL
)


@click.command()
@url_argument
@click.pass_obj
@async_command
async def login(root: Root, url: URL) -> None:
    """Log into Neuro Platform.

    Opens the login page in a web browser; without a browser it falls back to the
    headless flow of "neuro config login-headless".

    URL is a platform entrypoint URL.
    """
    await _logout_if_logged_in(root)
    try:
        await root.factory.login(open_browser, url=url)
    except BrowserUnavailableError:
        root.info("No web browser could be opened, logging in without one.")
        await root.factory.login_headless(AuthCodeAsker(root), url=url)
    await _welcome(root, url)


@click.command(name="login-headless")
@url_argument
@click.pass_obj
@async_command
async def login_headless(root: Root, url: URL) -> None:
    """Log into Neuro Platform from a machine without a web browser.

    Prints a URL to open in a browser elsewhere; after logging in there, type the code
    the page shows back into the prompt.

    URL is a platform entrypoint URL.
    """
    await _logout_if_logged_in(root)
    await root.factory.login_headless(AuthCodeAsker(root), url=url)
    await _welcome(root, url)


@click.command(name="login-with-token")
@click.argument("token")
@url_argument
@click.pass_obj
@async_command
async def login_with_token(root: Root, token: str, url: URL) -> None:
    """Log into Neuro Platform with a token.

    TOKEN is an authentication token provided by the administration team.
    URL is a platform entrypoint URL.
    """
    await _logout_if_logged_in(root)
    await root.factory.login_with_token(token, url=url)
    await _welcome(root, url)


@click.command()
@click.pass_obj
@async_command
async def logout(root: Root) -> None:
    """Log out: forget the stored credentials."""
    await root.factory.logout(open_browser_if_possible)
    root.info("Logged out")


async def _logout_if_logged_in(root: Root) -> None:
    # The SDK refuses to log in over an existing config; like the original CLI, a new
    # login replaces the old one.
    if root.factory.is_config_present:
        await root.factory.logout()
        root.info("You were successfully logged out.")


class AuthCodeAsker:
    """The headless flow's callback: show the authorize URL, read back the code."""

    def __init__(self, root: Root) -> None:
        self._root = root

    async def __call__(self, url: URL) -> str:
        # soft_wrap keeps the long URL on one line so that it can be copied whole.
        self._root.print(f"Open {url} in a browser", soft_wrap=True)
        self._root.print("Put the code displayed in a browser after successful login")
        code = (await ask("Code (empty for exit)-> ")).strip()
        if not code:
            raise UserError("Login cancelled: no code was entered")
        return code


async def _welcome(root: Root, url: URL) -> None:
    from neuro_cli.formatters.config import format_welcome

    async with root.client() as client:
        root.info(format_welcome(url, client.config))
