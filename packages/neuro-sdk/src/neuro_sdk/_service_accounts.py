"""Service accounts API (wire spec 8.3).

The methods and entities come with the service accounts issue; until then the documented names exist
as placeholders so the public surface is complete."""

from ._config import Config
from ._core import _Core


class ServiceAccounts:
    """Service accounts API, available on the client."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config


class ServiceAccount:
    """Placeholder: defined by the service accounts issue."""
