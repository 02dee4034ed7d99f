"""Users and sharing API (wire spec 7).

The methods and entities come with the ACL issue; until then the documented names exist
as placeholders so the public surface is complete."""

import enum

from ._config import Config
from ._core import _Core


class Users:
    """Users and sharing API, available on the client."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config


class Share:
    """Placeholder: defined by the ACL issue."""


class Permission:
    """Placeholder: defined by the ACL issue."""


class Action(enum.StrEnum):
    """Access levels, each including the ones before it."""

    READ = "read"
    WRITE = "write"
    MANAGE = "manage"
