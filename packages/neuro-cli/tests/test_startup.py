"""Start-up cost: what ``neuro`` imports before it has anything to do.

Every run pays for the imports of the command tree, so heavy libraries (the HTTP stack,
PyJWT with cryptography, rich, pathspec) are imported where they are used. Checked in a
fresh interpreter, which is what a user's ``neuro`` is.
"""

import json
import subprocess
import sys

import click

HEAVY = {"aiohttp", "jwt", "cryptography", "rich", "pathspec"}


def loaded_modules(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def loaded_after(code: str) -> set[str]:
    """The top-level packages imported after running ``code``."""
    return {name.partition(".")[0] for name in loaded_modules(code)}


def test_the_command_tree_imports_nothing_heavy() -> None:
    modules = loaded_modules("import neuro_cli.main")
    assert not {name.partition(".")[0] for name in modules} & HEAVY
    # Commands are imported when run (see neuro_cli.main.COMMANDS).
    assert not {name for name in modules if name.startswith("neuro_cli.commands.")}


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


def test_every_command_of_the_table_is_found_under_its_own_name() -> None:
    from neuro_cli.main import COMMANDS, cli

    context = click.Context(cli)
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert command is not None, name
        assert command.name == name, (name, COMMANDS[name])
    assert cli.get_command(context, "no-such-command") is None


def test_a_command_imports_its_own_module_only() -> None:
    modules = loaded_modules(
        "from neuro_cli.main import cli\nimport click\ncli.get_command(click.Context(cli), 'cp')"
    )
    commands = {name for name in modules if name.startswith("neuro_cli.commands.")}
    assert commands == {"neuro_cli.commands.storage"}


def test_the_job_commands_leave_the_browser_module_until_a_page_opens() -> None:
    # webbrowser (with shutil and its archive modules) was imported by every job command,
    # `neuro ps` included; only the pages of login and `run --browse` need it.
    modules = loaded_modules(
        "from neuro_cli.main import cli\nimport click\ncli.get_command(click.Context(cli), 'ps')"
    )
    assert "neuro_cli.commands.job" in modules
    assert "webbrowser" not in modules


def test_listings_leave_the_progress_bars_until_a_copy() -> None:
    # `ls`, `tree` and `df` print with this module; rich.progress (with rich.live and the
    # spinners) is only for the bar of a copy.
    modules = loaded_modules("import neuro_cli.formatters.storage")
    assert "rich.console" in modules
    assert "rich.progress" not in modules


def test_the_collector_waits_for_the_client_only_in_a_neuro_process() -> None:
    # main() pauses it until Root.client has made the client; a program running the CLI
    # in-process (cli.main) keeps its collector as it is: nothing frozen, nothing paused.
    probe = (
        "import gc\n"
        "from neuro_cli import process_gc\n"
        "process_gc.start_up_done()\n"
        "assert gc.isenabled() and gc.get_freeze_count() == 0\n"
        "process_gc.pause_for_start_up()\n"
        "assert not gc.isenabled() and gc.get_freeze_count() > 0\n"
        "frozen = gc.get_freeze_count()\n"
        "import rich.console\n"  # start-up goes on: more objects
        "process_gc.start_up_done()\n"
        "assert gc.isenabled() and gc.get_freeze_count() > frozen\n"
        "gc.disable()\n"
        "process_gc.start_up_done()\n"  # once only
        "assert not gc.isenabled()\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
