"""The ``neuro`` command line interface to the Neuro Platform."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str
else:
    # Looked up on first use (PEP 562): importlib.metadata is slow to import, and
    # `neuro --help` does not need the version.

    def __getattr__(name: str) -> Any:
        if name == "__version__":
            from importlib.metadata import version

            value = globals()["__version__"] = version("neuro-cli")
            return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
