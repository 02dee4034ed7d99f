"""The CLI is a client of the SDK's public API: it imports no private ``neuro_sdk._x`` module.

A private module is free to change under the CLI; what the CLI needs (URI parsing, glob
detection, local path <-> URI) is public (``client.parse``) and documented.
"""

import ast
from pathlib import Path

import pytest

import neuro_cli

CLI_ROOT = Path(neuro_cli.__file__).parent


def private_sdk_imports(source: str) -> list[str]:
    """``neuro_sdk._x`` modules (or ``from neuro_sdk import _x``) that ``source`` imports."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names if _is_private(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _is_private(node.module):
                found.append(node.module)
            elif node.module == "neuro_sdk":
                found.extend(
                    f"neuro_sdk.{alias.name}" for alias in node.names if alias.name.startswith("_")
                )
    return found


def _is_private(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "neuro_sdk" and any(part.startswith("_") for part in parts[1:])


def test_cli_imports_no_private_sdk_module() -> None:
    files = sorted(CLI_ROOT.rglob("*.py"))
    assert len(files) > 10  # the walk found the package
    offenders = {
        str(path.relative_to(CLI_ROOT)): imports
        for path in files
        if (imports := private_sdk_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    "source",
    [
        "from neuro_sdk._url_utils import uri_from_cli",
        "import neuro_sdk._storage_glob",
        "import neuro_sdk._storage_glob as glob",
        "from neuro_sdk import _parser",
        "def f() -> None:\n    from neuro_sdk._config import Config\n",  # nested, lazy
        "if TYPE_CHECKING:\n    import neuro_sdk._jobs\n",
    ],
)
def test_the_check_sees_every_form_of_private_import(source: str) -> None:
    assert private_sdk_imports(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "import neuro_sdk",
        "from neuro_sdk import Client, Parser",
        "from neuro_cli._x import y",  # the CLI's own private modules are its business
        "from .sibling import _helper",
    ],
)
def test_the_check_allows_public_imports(source: str) -> None:
    assert private_sdk_imports(source) == []
