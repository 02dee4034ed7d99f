"""``Client``: the facade over one HTTP session and the platform's sub-APIs."""

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

import aiohttp

from ._cluster import Preset
from ._config import Config
from ._core import _Core

if TYPE_CHECKING:
    from ._admin import _Admin
    from ._buckets import Buckets
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
        # Each sub-API (and its module: storage brings the transfer machinery, jobs the
        # streaming and parsing) is made on first use; a CLI command needs one or two.
        self._jobs: Jobs | None = None
        self._storage: Storage | None = None
        self._users: Users | None = None
        self._admin_client: _Admin | None = None
        self._images: Images | None = None
        self._secrets: Secrets | None = None
        self._disks: Disks | None = None
        self._buckets: Buckets | None = None
        self._service_accounts: ServiceAccounts | None = None
        self._parser: Parser | None = None
        self._closed = False

    async def close(self) -> None:
        """Close the HTTP session; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._buckets is not None:
                await self._buckets._close()  # its S3 connections
        finally:
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
    def cluster_name(self) -> str:
        return self._config.cluster_name

    @property
    def presets(self) -> Mapping[str, Preset]:
        return self._config.presets

    @property
    def version_checker(self) -> "_NoUpdates":
        return _NoUpdates()

    @property
    def config(self) -> Config:
        return self._config

    @property
    def jobs(self) -> "Jobs":
        if self._jobs is None:
            from ._jobs import Jobs

            self._jobs = Jobs(self._core, self._config)
        return self._jobs

    @property
    def storage(self) -> "Storage":
        if self._storage is None:
            from ._storage import Storage

            self._storage = Storage(self._core, self._config)
        return self._storage

    @property
    def _admin(self) -> "_Admin":
        """The admin API (``neuro admin``), experimental as in the original."""
        if self._admin_client is None:
            from ._admin import _Admin

            self._admin_client = _Admin(self._core, self._config)
        return self._admin_client

    @property
    def users(self) -> "Users":
        if self._users is None:
            from ._users import Users

            self._users = Users(self._core, self._config, self._admin)
        return self._users

    @property
    def images(self) -> "Images":
        if self._images is None:
            from ._images import Images

            self._images = Images(self._core, self._config)
        return self._images

    @property
    def secrets(self) -> "Secrets":
        if self._secrets is None:
            from ._secrets import Secrets

            self._secrets = Secrets(self._core, self._config)
        return self._secrets

    @property
    def disks(self) -> "Disks":
        if self._disks is None:
            from ._disks import Disks

            self._disks = Disks(self._core, self._config)
        return self._disks

    @property
    def buckets(self) -> "Buckets":
        if self._buckets is None:
            from ._buckets import Buckets

            self._buckets = Buckets(self._core, self._config)
        return self._buckets

    @property
    def service_accounts(self) -> "ServiceAccounts":
        if self._service_accounts is None:
            from ._service_accounts import ServiceAccounts

            self._service_accounts = ServiceAccounts(self._core, self._config)
        return self._service_accounts

    @property
    def parse(self) -> "Parser":
        if self._parser is None:
            from ._parser import Parser

            self._parser = Parser(self._config)
        return self._parser


class _NoUpdates:
    """``Client.version_checker``: a self-hosted platform has no package index to ask, so
    there is never an update to announce (the original checks PyPI)."""

    async def get_outdated(self) -> dict[str, str]:
        return {}

    async def update(self) -> None:
        return None
