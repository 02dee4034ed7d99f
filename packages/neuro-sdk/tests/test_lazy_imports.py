"""``import neuro_sdk`` is cheap: the public names load their modules on first use.

Start-up time of the ``neuro`` CLI depends on it (every run imports the SDK), so what a
fresh interpreter has loaded is checked in a subprocess.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import neuro_sdk

# Slow to import, and needed only by some uses of the SDK.
HEAVY = ("aiohttp", "jwt", "cryptography", "pathspec", "rich")
# Needed only by tree transfers (ignore files, bundles): a copy of one file goes without.
TREE_ONLY = ("pathspec", "tarfile")


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def top_level(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def test_import_loads_no_private_module_and_nothing_heavy() -> None:
    modules = loaded_after("import neuro_sdk")
    assert not top_level(modules) & set(HEAVY)
    assert not {name for name in modules if name.startswith("neuro_sdk.")}


def test_entities_and_errors_do_not_bring_the_http_stack() -> None:
    # What the CLI touches while it defines its commands.
    modules = loaded_after(
        "import neuro_sdk\n"
        "neuro_sdk.Action, neuro_sdk.JobStatus, neuro_sdk.AbstractDeleteProgress\n"
        "neuro_sdk.FileStatus, neuro_sdk.StdStream, neuro_sdk.NeuroError"
    )
    assert not top_level(modules) & set(HEAVY)


def test_factory_brings_the_http_client_only() -> None:
    modules = loaded_after("import neuro_sdk\nneuro_sdk.Factory")
    assert "aiohttp" in modules
    # Decoding a token, logging in through a browser, storage and jobs: loaded when used.
    assert not top_level(modules) & {"jwt", "cryptography", "pathspec", "rich"}
    assert "aiohttp.web" not in modules
    assert not modules & {"neuro_sdk._storage", "neuro_sdk._transfer", "neuro_sdk._jobs"}
    # The plugins (importlib.metadata) and the TOML parser: only for a user config file.
    assert not modules & {"importlib.metadata", "tomllib", "neuro_sdk._plugins"}


def test_a_storage_listing_loads_no_transfer_machinery() -> None:
    # `neuro ls`: Client.storage's module; copies import theirs on the first one.
    modules = loaded_after("import neuro_sdk._storage")
    assert "neuro_sdk._transfer" not in modules


def test_every_public_name_is_looked_up_lazily_from_its_defining_module() -> None:
    lazy = neuro_sdk._LAZY_NAMES
    assert set(lazy) == set(neuro_sdk.__all__)
    for name, module_name in lazy.items():
        value = getattr(neuro_sdk, name)
        assert getattr(sys.modules[f"neuro_sdk.{module_name}"], name) is value, name
    assert set(neuro_sdk.__all__) <= set(dir(neuro_sdk))


def test_type_checkers_see_the_same_names_as_run_time() -> None:
    # The TYPE_CHECKING imports are what mypy sees; _LAZY_NAMES what Python does.
    tree = ast.parse(Path(neuro_sdk.__file__).read_text())
    [block] = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    seen = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom)
        assert node.level == 1
        assert node.module is not None
        for alias in node.names:
            assert alias.asname == alias.name  # an explicit re-export
            seen[alias.name] = node.module
    assert seen == neuro_sdk._LAZY_NAMES


def test_unknown_names_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchName"):
        getattr(neuro_sdk, "NoSuchName")  # noqa: B009


def test_a_single_file_transfer_loads_no_tree_machinery() -> None:
    modules = loaded_after("import neuro_sdk._storage, neuro_sdk._transfer")
    assert not top_level(modules) & set(TREE_ONLY)


def test_reading_the_user_name_from_a_token_needs_no_jwt_library() -> None:
    # Every CLI command reads it; PyJWT with cryptography cost 20 ms of each start.
    token = "eyJhbGciOiJIUzI1NiJ9.eyJpZGVudGl0eSI6ImFsaWNlIn0.c2ln"  # {"identity": "alice"}
    modules = loaded_after(
        "from neuro_sdk._auth_token import username_from_token\n"
        f"assert username_from_token({token!r}) == 'alice'"
    )
    assert not top_level(modules) & {"jwt", "cryptography"}
