"""Start a real platform server in a subprocess, for this package's tests and the SDK's/CLI's."""

from .server import PlatformServer as PlatformServer
from .server import running_platform as running_platform
