"""Buckets API (docs/protocol.md §8.4).

The methods and entities come with the buckets issue; until then the documented names exist
as placeholders so the public surface is complete."""

from ._config import Config
from ._core import _Core


class Buckets:
    """Buckets API, available on the client."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config


class Bucket:
    """Placeholder: defined by the buckets issue."""


class BucketCredentials:
    """Placeholder: defined by the buckets issue."""


class PersistentBucketCredentials:
    """Placeholder: defined by the buckets issue."""


class BucketEntry:
    """Placeholder: defined by the buckets issue."""


class BlobObject:
    """Placeholder: defined by the buckets issue."""


class BlobCommonPrefix:
    """Placeholder: defined by the buckets issue."""


class BucketUsage:
    """Placeholder: defined by the buckets issue."""
