"""Start-up cost: what ``neuro`` imports before it has anything to do.

Every run pays for the imports of the command tree, so heavy libraries (the HTTP stack,
PyJWT with cryptography, rich, pathspec) are imported where they are used. Checked in a
fresh interpreter, which is what a user's ``neuro`` is.
"""

import json
import subprocess
import sys

HEAVY = {"aiohttp", "jwt", "cryptography", "rich", "pathspec"}


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return {name.partition(".")[0] for name in json.loads(result.stdout.splitlines()[-1])}


def test_the_command_tree_imports_nothing_heavy() -> None:
    assert not loaded_after("import neuro_cli.main") & HEAVY


def test_help_imports_nothing_heavy() -> None:
    # Only the top level: a subcommand's --help runs the root callback first, which makes
    # the SDK's Factory (and so imports aiohttp), as any command does.
    modules = loaded_after(
        "from neuro_cli.main import cli\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert cli.main(['--help'], prog_name='neuro', standalone_mode=False) == 0"
    )
    assert not modules & HEAVY
