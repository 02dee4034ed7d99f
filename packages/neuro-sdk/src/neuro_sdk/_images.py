"""Images API (docs/protocol.md §6).

The methods and entities come with the images issue; until then the documented names exist
as placeholders so the public surface is complete."""

from abc import ABC

from ._config import Config
from ._core import _Core
from ._images_refs import LocalImage as LocalImage
from ._images_refs import RemoteImage as RemoteImage

# Defined with `Jobs.save` until the images API defines it here (job-images branch).
from ._jobs_save import ImageProgressStep as ImageProgressStep


class Images:
    """Images API, available on the client."""

    def __init__(self, core: _Core, config: Config) -> None:
        self._core = core
        self._config = config


class ImageProgressPull:
    """Placeholder: defined by the images issue."""


class ImageProgressPush:
    """Placeholder: defined by the images issue."""


class Tag:
    """Placeholder: defined by the images issue."""


class AbstractDockerImageProgress(ABC):  # noqa: B024
    """Placeholder: the callback methods come with the images issue."""
