"""The ``neuro`` command line interface to the Neuro Platform."""

from importlib.metadata import version

__version__ = version("neuro-cli")
