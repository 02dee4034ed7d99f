"""The SDK's own version, as installed."""

from importlib.metadata import version

__version__ = version("neuro-sdk")
