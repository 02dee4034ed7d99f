"""``Client.config``: the logged-in user's clusters, current selection and token."""

import asyncio
import copy
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yarl import URL

from ._auth_token import username_from_token
from ._cluster import Cluster, Preset
from ._config_db import _ConfigData, save_config_data, save_token
from ._core import _Core
from ._errors import ConfigError
from ._login import refresh_token
from ._server_cfg import get_server_config
from ._user_config import LOCAL_CONFIG_NAME, local_selection


def default_org(cluster: Cluster, current: str | None = None) -> str | None:
    """Keep ``current`` when allowed, else "no org" when allowed, else the first by name."""
    if current in cluster.orgs:
        return current
    if None in cluster.orgs:
        return None
    return sorted(org for org in cluster.orgs if org is not None)[0]


class Config:
    """Configuration subsystem, available as ``Client.config``."""

    def __init__(
        self,
        core: _Core,
        path: Path,
        data: _ConfigData,
        user_config: Mapping[str, Any],
    ) -> None:
        self._core = core
        self._path = path
        self._data = data
        self._user_config = user_config
        self._cluster_override, self._org_override, self._org_overridden = local_selection(
            user_config
        )
        self._refresh_lock = asyncio.Lock()

    @property
    def username(self) -> str:
        return username_from_token(self._data.auth_token.token)

    @property
    def cluster_name(self) -> str:
        name = self._cluster_override or self._data.cluster_name
        if name is None:
            raise ConfigError("No cluster is selected. Please login again.")
        return name

    @property
    def org_name(self) -> str | None:
        if self._org_overridden:
            return self._org_override
        return self._data.org_name

    @property
    def clusters(self) -> Mapping[str, Cluster]:
        return self._data.clusters

    @property
    def cluster_orgs(self) -> list[str | None]:
        """The orgs the user may work in on the current cluster (None: no org)."""
        return list(self._cluster.orgs)

    @property
    def _cluster(self) -> Cluster:
        name = self.cluster_name
        try:
            return self._data.clusters[name]
        except KeyError:
            raise ConfigError(
                f"Cluster {name} is not in the list of available clusters "
                f"{sorted(self._data.clusters)}. Please fetch the config or login again."
            ) from None

    def get_cluster(self, cluster_name: str) -> Cluster:
        """A cluster of the config; RuntimeError, as the original SDK, when unknown."""
        try:
            return self._data.clusters[cluster_name]
        except KeyError:
            if self._cluster_override is None:
                tip = "Please logout and login again."
            else:
                tip = "Please edit local user config file or logout and login again."
            raise RuntimeError(
                f"Cluster {cluster_name} doesn't exist in a list of available clusters "
                f"{list(self._data.clusters)}. {tip}"
            ) from None

    @property
    def presets(self) -> Mapping[str, Preset]:
        return self._cluster.presets

    @property
    def api_url(self) -> URL:
        return self._data.url

    @property
    def admin_url(self) -> URL | None:
        return self._data.admin_url

    @property
    def registry_url(self) -> URL:
        return self._cluster.registry_url

    @property
    def storage_url(self) -> URL:
        return self._cluster.storage_url

    @property
    def monitoring_url(self) -> URL:
        return self._cluster.monitoring_url

    @property
    def secrets_url(self) -> URL:
        return self._cluster.secrets_url

    @property
    def disks_url(self) -> URL:
        return self._cluster.disks_url

    @property
    def buckets_url(self) -> URL:
        return self._cluster.buckets_url

    # The original SDK's names for the two URLs above.
    @property
    def disk_api_url(self) -> URL:
        return self.disks_url

    @property
    def bucket_api_url(self) -> URL:
        return self.buckets_url

    @property
    def service_accounts_url(self) -> URL:
        return self._data.url / "service_accounts"

    async def fetch(self) -> None:
        """Reload the clusters from the server and store them."""
        server_config = await get_server_config(self._core, self.api_url, await self.token())
        clusters = server_config.clusters
        cluster_name = self._data.cluster_name
        if cluster_name not in clusters:
            cluster_name = next(iter(clusters), None)
        org_name = self._data.org_name
        if cluster_name is not None:
            org_name = default_org(clusters[cluster_name], org_name)
        self._replace(
            clusters=clusters,
            admin_url=server_config.admin_url,
            cluster_name=cluster_name,
            org_name=org_name,
        )

    async def switch_cluster(self, name: str) -> None:
        if self._cluster_override is not None:
            raise ConfigError(
                f"Cannot switch the cluster: 'job.cluster-name' is set in {LOCAL_CONFIG_NAME}"
            )
        cluster = self._data.clusters.get(name)
        if cluster is None:
            raise ConfigError(
                f"Cluster {name} doesn't exist in the list of available clusters "
                f"{sorted(self._data.clusters)}"
            )
        self._replace(cluster_name=name, org_name=default_org(cluster, self._data.org_name))

    async def switch_org(self, name: str | None) -> None:
        if self._org_overridden:
            raise ConfigError(
                f"Cannot switch the org: 'job.org-name' is set in {LOCAL_CONFIG_NAME}"
            )
        orgs = self._cluster.orgs
        if name not in orgs:
            shown = sorted("NO_ORG" if org is None else org for org in orgs)
            raise ConfigError(
                f"Org {name} is not available on cluster {self.cluster_name}; "
                f"available orgs: {shown}"
            )
        self._replace(org_name=name)

    async def check_server(self) -> None:
        """A config written by another SDK version is kept only if the server agrees with
        it; ConfigError (log in again) when the clusters or the auth settings changed."""
        from ._version import __version__

        if self._data.version == __version__:
            return
        server_config = await get_server_config(self._core, self._data.url, await self.token())
        if (
            server_config.auth_config != self._data.auth_config
            or server_config.clusters != self._data.clusters
        ):
            raise ConfigError(
                "The platform configuration changed since the login (the CLI was updated). "
                "Please logout and login again."
            )
        self._replace(version=__version__)

    async def get_user_config(self) -> Mapping[str, Any]:
        return copy.deepcopy(dict(self._user_config))

    async def token(self) -> str:
        """The access token, refreshed first when it is stale."""
        async with self._refresh_lock:
            if self._data.auth_token.is_expired:
                token = await refresh_token(
                    self._core, self._data.auth_config, self._data.auth_token
                )
                save_token(self._path, token)
                self._data = dataclasses.replace(self._data, auth_token=token)
        return self._data.auth_token.token

    async def _api_auth(self) -> str:
        """The ``Authorization`` header value for platform services."""
        return f"Bearer {await self.token()}"

    def _replace(self, **changes: Any) -> None:
        data = dataclasses.replace(self._data, **changes)
        save_config_data(self._path, data)
        self._data = data
