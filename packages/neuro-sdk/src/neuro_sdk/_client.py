"""``Client``: the facade over one HTTP session and the platform's sub-APIs."""

from collections.abc import Mapping
from types import TracebackType

import aiohttp

from ._buckets import Buckets
from ._cluster import Preset
from ._config import Config
from ._core import _Core
from ._disks import Disks
from ._images import Images
from ._jobs import Jobs
from ._parser import Parser
from ._secrets import Secrets
from ._service_accounts import ServiceAccounts
from ._storage import Storage
from ._users import Users


class Client:
    """Neuro Platform client; make one with ``Factory.get()`` or ``neuro_sdk.get()``."""

    def __init__(self, session: aiohttp.ClientSession, config: Config, core: _Core) -> None:
        self._session = session
        self._core = core
        self._config = config
        self._jobs = Jobs(core, config)
        self._storage = Storage(core, config)
        self._users = Users(core, config)
        self._images = Images(core, config)
        self._secrets = Secrets(core, config)
        self._disks = Disks(core, config)
        self._buckets = Buckets(core, config)
        self._service_accounts = ServiceAccounts(core, config)
        self._parser = Parser(config)
        self._closed = False

    async def close(self) -> None:
        """Close the HTTP session; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        await self._session.close()

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def username(self) -> str:
        return self._config.username

    @property
    def presets(self) -> Mapping[str, Preset]:
        return self._config.presets

    @property
    def config(self) -> Config:
        return self._config

    @property
    def jobs(self) -> Jobs:
        return self._jobs

    @property
    def storage(self) -> Storage:
        return self._storage

    @property
    def users(self) -> Users:
        return self._users

    @property
    def images(self) -> Images:
        return self._images

    @property
    def secrets(self) -> Secrets:
        return self._secrets

    @property
    def disks(self) -> Disks:
        return self._disks

    @property
    def buckets(self) -> Buckets:
        return self._buckets

    @property
    def service_accounts(self) -> ServiceAccounts:
        return self._service_accounts

    @property
    def parse(self) -> Parser:
        return self._parser
