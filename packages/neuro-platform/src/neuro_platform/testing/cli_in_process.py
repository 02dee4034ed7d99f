"""`neuro-platform ARGS` run in the test's own process, answered as `subprocess.run` answers.

A real `python -m neuro_platform admin ...` spends most of its second starting Python and
importing the platform, which the test process has done already; dozens of tests call the
admin CLI only to set up what they check. This runs the same click command (the same
options, settings, messages and exit codes) through click's test runner instead. The entry
point itself, as an operator's shell starts it, keeps tests of its own (test_admin_cli.py).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from click.testing import CliRunner

PROG_NAME = "neuro-platform"


def run_cli(
    args: Sequence[str], *, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`neuro-platform ARGS` with `env` as its whole environment (default: this process's).

    An exception the command does not handle is raised here, with its traceback, where a
    process would have printed it and exited 1."""
    from ..cli import main  # the CLI imports the whole platform; a test that runs it needs it

    wanted = os.environ if env is None else env
    # The runner sets and unsets variables of the process itself, for the command's duration.
    changes: dict[str, str | None] = {k: None for k in os.environ if k not in wanted}
    changes.update((k, v) for k, v in wanted.items() if os.environ.get(k) != v)
    runner = CliRunner()
    # A thread of its own: the commands run their own event loop (asyncio.run), and async
    # tests call this while theirs runs.
    with ThreadPoolExecutor(max_workers=1) as executor:
        result = executor.submit(
            runner.invoke, main, list(args), env=changes, prog_name=PROG_NAME
        ).result()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        [PROG_NAME, *args], result.exit_code, result.stdout, result.stderr
    )
