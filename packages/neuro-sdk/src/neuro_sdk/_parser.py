"""Helpers that parse the CLI's textual definitions (volumes, env, images...).

The methods come with the jobs issue; the documented names exist now."""

from ._config import Config


class Parser:
    """Parsing helpers, available as ``Client.parse``."""

    def __init__(self, config: Config) -> None:
        self._config = config


class EnvParseResult:
    """Placeholder: defined by the jobs issue."""


class VolumeParseResult:
    """Placeholder: defined by the jobs issue."""
