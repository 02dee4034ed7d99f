"""Storage API (wire spec 5).

The methods and entities come with the storage issue; until then the documented names exist
as placeholders so the public surface is complete."""

from abc import ABC

from ._config import Config
from ._core import _Core


class Storage:
    """Storage API, available on the client."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config


class FileStatus:
    """Placeholder: defined by the storage issue."""


class StorageProgressStart:
    """Placeholder: defined by the storage issue."""


class StorageProgressStep:
    """Placeholder: defined by the storage issue."""


class StorageProgressComplete:
    """Placeholder: defined by the storage issue."""


class StorageProgressEnterDir:
    """Placeholder: defined by the storage issue."""


class StorageProgressLeaveDir:
    """Placeholder: defined by the storage issue."""


class StorageProgressFail:
    """Placeholder: defined by the storage issue."""


class StorageProgressDelete:
    """Placeholder: defined by the storage issue."""


class DiskUsageInfo:
    """Placeholder: defined by the storage issue."""


class AbstractFileProgress(ABC):  # noqa: B024
    """Placeholder: the callback methods come with the storage issue."""


class AbstractRecursiveFileProgress(ABC):  # noqa: B024
    """Placeholder: the callback methods come with the storage issue."""


class AbstractDeleteProgress(ABC):  # noqa: B024
    """Placeholder: the callback methods come with the storage issue."""
