"""Secrets API (wire spec 8.1).

The methods and entities come with the secrets issue; until then the documented names exist
as placeholders so the public surface is complete."""

from ._config import Config
from ._core import _Core


class Secrets:
    """Secrets API, available on the client."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config


class Secret:
    """Placeholder: defined by the secrets issue."""
