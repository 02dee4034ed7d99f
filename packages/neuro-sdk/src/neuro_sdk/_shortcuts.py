"""Module-level shortcuts for the ``Factory`` methods."""

# The documented API takes aiohttp timeouts as arguments.
# ruff: noqa: ASYNC109

from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
from yarl import URL

from ._client import Client
from ._config_factory import DEFAULT_API_URL, DEFAULT_TIMEOUT, Factory


class _ClientContextManager:
    """Usable both as ``async with get() as client`` and ``client = await get()``."""

    def __init__(
        self,
        path: Path | None,
        timeout: aiohttp.ClientTimeout,
        trace_configs: list[aiohttp.TraceConfig] | None,
    ) -> None:
        self._factory = Factory(path, trace_configs)
        self._timeout = timeout
        self._client: Client | None = None

    def __await__(self) -> Generator[Any, None, Client]:
        return self._factory.get(timeout=self._timeout).__await__()

    async def __aenter__(self) -> Client:
        self._client = await self._factory.get(timeout=self._timeout)
        return self._client

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.close()


def get(
    *,
    path: Path | None = None,
    timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    trace_configs: list[aiohttp.TraceConfig] | None = None,
) -> _ClientContextManager:
    return _ClientContextManager(path, timeout, trace_configs)


async def login(
    show_browser_cb: Callable[[URL], Awaitable[None]],
    *,
    url: URL = DEFAULT_API_URL,
    path: Path | None = None,
    timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
) -> None:
    await Factory(path).login(show_browser_cb, url=url, timeout=timeout)


async def login_with_headless(
    get_auth_code_cb: Callable[[URL], Awaitable[str]],
    *,
    url: URL = DEFAULT_API_URL,
    path: Path | None = None,
    timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
) -> None:
    await Factory(path).login_headless(get_auth_code_cb, url=url, timeout=timeout)


async def login_with_token(
    token: str,
    *,
    url: URL = DEFAULT_API_URL,
    path: Path | None = None,
    timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
) -> None:
    await Factory(path).login_with_token(token, url=url, timeout=timeout)


async def logout(
    *,
    path: Path | None = None,
    show_browser_cb: Callable[[URL], Awaitable[None]] | None = None,
) -> None:
    await Factory(path).logout(show_browser_cb)
