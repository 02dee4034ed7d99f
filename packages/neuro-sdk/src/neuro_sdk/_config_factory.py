"""``Factory``: log in (browser, headless, token, passed config), log out, make clients."""

# The documented API takes aiohttp timeouts as arguments.
# ruff: noqa: ASYNC109

import base64
import binascii
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from ._auth_token import _AuthToken, username_from_token
from ._client import Client
from ._config import Config, default_org
from ._config_db import (
    _ConfigData,
    db_path,
    delete_config,
    load_config_data,
    save_config_data,
)
from ._core import _Core, new_session
from ._errors import AuthError, ConfigError
from ._login import browser_login, headless_login, standalone_token
from ._server_cfg import _AuthConfig, _ServerConfig, get_server_config
from ._user_config import load_user_config
from ._version import __version__

if TYPE_CHECKING:
    from ._plugins import ConfigBuilder

DEFAULT_API_URL = URL("https://staging.neu.ro/api/v1")
DEFAULT_CONFIG_PATH = "~/.neuro"
CONFIG_ENV_NAME = "NEUROMATION_CONFIG"
PASS_CONFIG_ENV_NAME = "NEURO_PASSED_CONFIG"
# No limit on the whole request (streams and transfers run long), a minute per step.
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=60, sock_read=60)
# login_with_token: the server decides when such a token expires; assume three years.
TOKEN_LOGIN_LIFETIME_S = 3 * 365 * 24 * 3600

_Negotiator = Callable[[_Core, _AuthConfig], Awaitable[_AuthToken]]


def _user_config_params() -> "ConfigBuilder":
    """The parameters a user config file may set: the built-in ones and the plugins'."""
    from ._plugins import load_plugins

    return load_plugins().config


class Factory:
    """Makes clients from the stored config, and creates or removes that config."""

    def __init__(
        self,
        path: Path | None = None,
        trace_configs: list[aiohttp.TraceConfig] | None = None,
        trace_id: str | None = None,
        trace_sampled: bool | None = None,
    ) -> None:
        if path is None:
            path = Path(os.environ.get(CONFIG_ENV_NAME, DEFAULT_CONFIG_PATH))
        self._path = path.expanduser()
        self._trace_configs = trace_configs
        self._trace_id = trace_id
        self._trace_sampled = trace_sampled

    @property
    def path(self) -> Path:
        return self._path

    @property
    def is_config_present(self) -> bool:
        return db_path(self._path).exists()

    async def load_user_config(self) -> Mapping[str, Any]:
        """The merged user config (user.toml and the project's .neuro.toml), logged in or
        not: what the CLI's aliases need before any login (22.6's ``Factory`` method)."""
        return load_user_config(self._path, _user_config_params)

    async def get(self, *, timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> Client:
        """A client for the stored config; the token is refreshed when stale."""
        if not self.is_config_present and PASS_CONFIG_ENV_NAME in os.environ:
            await self.login_with_passed_config(timeout=timeout)
        data = load_config_data(self._path)
        user_config = load_user_config(self._path, _user_config_params)
        session = new_session(timeout, self._trace_configs)
        try:
            core = _Core(session, self._trace_id, self._trace_sampled)
            config = Config(core, self._path, data, user_config)
            await config.token()  # a stale token is refreshed (and saved) up front
            await config.check_server()
            return Client(session, config, core)
        except BaseException:
            await session.close()
            raise

    async def login(
        self,
        show_browser_cb: Callable[[URL], Awaitable[None]],
        *,
        url: URL = DEFAULT_API_URL,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        """Log in through a browser that ``show_browser_cb`` opens at the authorize page."""

        async def negotiate(core: _Core, auth_config: _AuthConfig) -> _AuthToken:
            return await browser_login(core, auth_config, show_browser_cb)

        await self._login_oauth(negotiate, url, timeout)

    async def login_headless(
        self,
        get_auth_code_cb: Callable[[URL], Awaitable[str]],
        *,
        url: URL = DEFAULT_API_URL,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        """Log in by a code the user copies from the authorize page's result."""

        async def negotiate(core: _Core, auth_config: _AuthConfig) -> _AuthToken:
            return await headless_login(core, auth_config, get_auth_code_cb)

        await self._login_oauth(negotiate, url, timeout)

    async def login_with_token(
        self,
        token: str,
        *,
        url: URL = DEFAULT_API_URL,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        await self._login_with_token(token, url, timeout, cluster_name=None)

    async def login_with_passed_config(
        self,
        config_data: str | None = None,
        *,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        """Log in from the base64 JSON the platform passes to jobs (docs/protocol.md §2.5)."""
        if config_data is None:
            config_data = os.environ.get(PASS_CONFIG_ENV_NAME)
            if config_data is None:
                raise ConfigError(f"{PASS_CONFIG_ENV_NAME} is not set")
        try:
            payload = json.loads(base64.b64decode(config_data, validate=True))
            token, cluster_name, url = payload["token"], payload["cluster"], URL(payload["url"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise ConfigError(f"Malformed passed config: {exc!r}") from exc
        await self._login_with_token(token, url, timeout, cluster_name=cluster_name)

    async def logout(self, show_browser_cb: Callable[[URL], Awaitable[None]] | None = None) -> None:
        """Forget the stored config; optionally end the browser session too."""
        if show_browser_cb is not None and self.is_config_present:
            auth_config = load_config_data(self._path).auth_config
            await show_browser_cb(
                auth_config.logout_url.with_query(client_id=auth_config.client_id)
            )
        delete_config(self._path)

    def _refuse_existing(self) -> None:
        if self.is_config_present:
            raise ConfigError(f"Config at {self._path} already exists. Please logout first.")

    async def _login_oauth(
        self, negotiate: _Negotiator, url: URL, timeout: aiohttp.ClientTimeout
    ) -> None:
        self._refuse_existing()
        async with new_session(timeout) as session:
            core = _Core(session)
            unauthorized = await get_server_config(core, url)
            if unauthorized.clusters:
                # A server that shows clusters to anyone runs without auth
                # (docs/protocol.md §2.2 step 1).
                token = standalone_token()
            else:
                token = await negotiate(core, unauthorized.auth_config)
            server_config = await get_server_config(core, url, token.token)
        self._save_login(url, server_config, token, cluster_name=None)

    async def _login_with_token(
        self, token: str, url: URL, timeout: aiohttp.ClientTimeout, *, cluster_name: str | None
    ) -> None:
        self._refuse_existing()
        username_from_token(token)  # a token that names no user is useless: fail early
        async with new_session(timeout) as session:
            server_config = await get_server_config(_Core(session), url, token)
        auth_token = _AuthToken.create(token, TOKEN_LOGIN_LIFETIME_S)
        self._save_login(url, server_config, auth_token, cluster_name=cluster_name)

    def _save_login(
        self,
        url: URL,
        server_config: _ServerConfig,
        token: _AuthToken,
        *,
        cluster_name: str | None,
    ) -> None:
        clusters = server_config.clusters
        if not clusters:
            raise AuthError(f"User {username_from_token(token.token)} has no access to any cluster")
        if cluster_name is None:
            cluster_name = next(iter(clusters))
        elif cluster_name not in clusters:
            raise ConfigError(
                f"Cluster {cluster_name} doesn't exist in the list of available clusters "
                f"{sorted(clusters)}"
            )
        data = _ConfigData(
            auth_config=server_config.auth_config,
            auth_token=token,
            url=url,
            admin_url=server_config.admin_url,
            version=__version__,
            cluster_name=cluster_name,
            org_name=default_org(clusters[cluster_name]),
            clusters=clusters,
        )
        save_config_data(self._path, data)
