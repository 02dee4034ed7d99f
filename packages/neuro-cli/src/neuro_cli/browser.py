"""Opening the user's web browser for the OAuth pages."""

import asyncio
import contextlib

from yarl import URL


class BrowserUnavailableError(Exception):
    """No browser could be started, e.g. on a server without a desktop."""


async def open_browser(url: URL) -> None:
    # Imported here: webbrowser (with shutil and its archive modules) costs every command's
    # start-up, `neuro ps` included, and only the login and browse commands open pages.
    import webbrowser

    # webbrowser may wait for the browser command to exit: keep it off the loop, which
    # must stay free to receive the OAuth callback meanwhile.
    if not await asyncio.to_thread(webbrowser.open_new, str(url)):
        raise BrowserUnavailableError(f"No web browser could be opened for {url}")


async def open_browser_if_possible(url: URL) -> None:
    """For pages that are a courtesy (the logout page): no browser is not an error."""
    with contextlib.suppress(BrowserUnavailableError):
        await open_browser(url)
