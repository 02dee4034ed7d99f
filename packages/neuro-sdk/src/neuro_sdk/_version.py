"""The SDK's own version: the package's metadata reads it from here (hatch's version source),
so looking it up costs nothing at start, where `importlib.metadata` took about 4 ms."""

__version__ = "26.11.0"
