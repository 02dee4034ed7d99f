"""The self-hostable Neuro Platform server."""

from importlib.metadata import version

__version__ = version("neuro-platform")
