"""The ``neuro`` entry point: global options, the command tree and error reporting."""

import atexit
import contextlib
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import click

from neuro_cli import process_gc
from neuro_cli.console import COLOR_MODES, ColorMode
from neuro_cli.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UserError,
    describe_error,
    error_line,
)
from neuro_cli.logs import setup_logging
from neuro_cli.root import GlobalOptions, Root

log = logging.getLogger(__name__)

# Where each top-level command is defined (module in neuro_cli.commands, attribute). A
# command's module is imported when the command runs (or `neuro --help` lists it):
# importing every one at each start cost 13 ms, the job commands' terminal code most.
COMMANDS: dict[str, tuple[str, str]] = {
    "acl": ("acl", "acl"),
    "admin": ("admin", "admin"),
    "blob": ("blob", "blob"),
    "share": ("acl", "share"),
    "login": ("auth", "login"),
    "logout": ("auth", "logout"),
    "completion": ("completion", "completion"),
    "config": ("config", "config"),
    "help": ("help", "help_"),
    "disk": ("disk", "disk"),
    "image": ("image", "image"),
    "images": ("image", "images"),
    "push": ("image", "push"),
    "pull": ("image", "pull"),
    "secret": ("secret", "secret"),
    "service-account": ("service_account", "service_account"),
    "storage": ("storage", "storage"),
    "cp": ("storage", "cp"),
    "ls": ("storage", "ls"),
    "mkdir": ("storage", "mkdir"),
    "mv": ("storage", "mv"),
    "rm": ("storage", "rm"),
    "job": ("job", "job"),
    "run": ("job", "run"),
    "ps": ("job", "ps"),
    "status": ("job", "status"),
    "logs": ("job", "logs"),
    "kill": ("job", "kill"),
    "top": ("job", "top"),
    "save": ("job", "save"),
    "exec": ("job", "exec_"),
    "attach": ("job", "attach"),
    "port-forward": ("job", "port_forward"),
}


class NeuroGroup(click.Group):
    """The root group: finds the commands in COMMANDS, and owns how every failure is
    reported and what exit code it gets."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[cmd_name]
        module = importlib.import_module(f"neuro_cli.commands.{module_name}")
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # A name that is no command may be an [alias] of the user config (not looked up
        # for built-ins: an alias never shadows one, and reading the config costs time).
        name = args[0] if args else ""
        if name and name not in COMMANDS and name[0].isalnum():
            from neuro_cli.alias import load_alias

            alias = load_alias(ctx.params.get("config_path"), name)
            if alias is not None:
                return name, alias, args[1:]
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_commands(ctx, formatter)
        from neuro_cli.topics import TOPICS

        with formatter.section(f"Help topics ({ctx.info_name} help <topic>)"):
            formatter.write_dl([(name, text.split("\n", 1)[0]) for name, text in TOPICS.items()])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.UsageError, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            # Here the -v count is known (the root callback has run), so this is where
            # a failure becomes either a traceback or a single line.
            root = ctx.find_object(Root)
            config = root.factory.path if root is not None else None
            log.debug(
                "Command failed: neuro %s, config %s", ctx.invoked_subcommand, config, exc_info=True
            )
            if root is not None and (root.options.verbosity > 0 or root.options.show_traceback):
                click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
            if isinstance(exc, click.ClickException):
                raise
            raise UserError(describe_error(exc)) from exc

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(error_line(exc.format_message()) + hint, err=True)
            code = EXIT_USAGE
        except click.ClickException as exc:
            # Any command's ClickException, not only UserError, gets the one-line form.
            click.echo(error_line(exc.format_message()), err=True)
            code = exc.exit_code
        except click.Abort as exc:
            if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
                code = EXIT_INTERRUPTED
            else:
                click.echo(error_line("Aborted"), err=True)
                code = EXIT_ERROR
        else:
            # standalone_mode=False returns the exit code of ctx.exit() (--help,
            # --version) or the command's return value (None) on success.
            code = result if isinstance(result, int) else 0
        if standalone_mode:
            raise SystemExit(code)
        return code


@click.group(cls=NeuroGroup, name="neuro")
@click.option(
    "--neuromation-config",
    "config_path",
    envvar="NEUROMATION_CONFIG",
    type=click.Path(path_type=Path, dir_okay=True, file_okay=True),
    help="Path to the config directory (default ~/.neuro).",
)
@click.option("-v", "--verbose", count=True, help="Give more output; repeatable.")
@click.option("-q", "--quiet", count=True, help="Give less output; repeatable.")
@click.option(
    "--color",
    type=click.Choice(COLOR_MODES),
    default="auto",
    show_default=True,
    help="Color mode.",
)
@click.option(
    "--skip-stats/--no-skip-stats",
    default=False,
    help="Accepted for compatibility; this CLI sends no usage statistics anyway.",
)
@click.option(
    "--disable-pypi-version-check",
    is_flag=True,
    envvar="NEURO_CLI_DISABLE_PYPI_VERSION_CHECK",
    help="Accepted for compatibility; this CLI never checks PyPI for updates.",
)
@click.option(
    "--show-traceback",
    is_flag=True,
    help="Show the Python traceback of an error (as -v does).",
)
@click.option(
    "--network-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Network read timeout, seconds.",
)
@click.option("--trace", is_flag=True, help="Print each HTTP request and reply to stderr.")
@click.option(
    "--x-trace-all",
    hidden=True,
    is_flag=True,
    help="Mark every request's trace as sampled, so the server traces them all.",
)
@click.option(
    "--hide-token/--no-hide-token",
    default=None,
    help="Replace the token in traced headers by a placeholder (on by default); needs --trace.",
)
@click.option(
    "--iso-datetime-format/--no-iso-datetime-format",
    default=False,
    help="Print dates and times in ISO 8601.",
)
# package_name instead of neuro_cli.__version__: click looks the version up only when
# --version is given, so that start-up does not import importlib.metadata.
@click.version_option(
    package_name="neuro-cli", prog_name="Neuro Platform Client", message="%(prog)s %(version)s"
)
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path | None,
    verbose: int,
    quiet: int,
    color: ColorMode,
    skip_stats: bool,
    disable_pypi_version_check: bool,
    show_traceback: bool,
    network_timeout: float,
    trace: bool,
    x_trace_all: bool,
    hide_token: bool | None,
    iso_datetime_format: bool,
) -> None:
    """Neuro Platform command line interface."""
    if hide_token is not None and not trace:
        # 22.x's rule: the option only means something while tracing.
        flag = "--hide-token" if hide_token else "--no-hide-token"
        raise click.UsageError(f"{flag} requires --trace")
    options = GlobalOptions(
        config_path=config_path.expanduser() if config_path else None,
        verbosity=verbose - quiet,
        color=color,
        network_timeout=network_timeout,
        show_traceback=show_traceback,
        iso_datetime_format=iso_datetime_format,
        trace=trace,
        trace_all=x_trace_all,
        trace_hide_token=hide_token is not False,
    )
    from neuro_cli.formatters.times import ISO_DATETIME

    # Every printed date/time follows it, for this invocation only: a CLI run in-process
    # (tests, scripts calling `main`) must not leave the next one in ISO.
    ctx.call_on_close(partial(ISO_DATETIME.reset, ISO_DATETIME.set(iso_datetime_format)))
    root = Root.create(options)
    ctx.obj = root
    ctx.call_on_close(setup_logging(options.verbosity, root.factory.path))
    if options.verbosity >= 2:
        # Only where stderr shows it: a record at every run made every run's log file
        # (logs.py), where a failure's record names the command and config anyway.
        log.debug("neuro %s, config %s", ctx.invoked_subcommand, root.factory.path)


def main(args: Sequence[str] | None = None) -> NoReturn:
    process_gc.pause_for_start_up()  # until the command's client is made
    try:
        code = cli.main(args=args, prog_name="neuro", standalone_mode=False)
    except SystemExit as exit_:
        code = exit_.code
    if not isinstance(code, int):  # None or a message: the interpreter's usual exit
        raise SystemExit(code)
    exit_without_teardown(code)


def exit_without_teardown(code: int) -> NoReturn:
    """Ends the process once its exit handlers ran and its output is out, skipping the
    interpreter's teardown: freeing every module's objects took 30-40 ms of each command,
    and nothing of this process outlives it anyway."""
    atexit._run_exitfuncs()  # logging's flush of the log file, among others
    for stream in (sys.stdout, sys.stderr):
        # `neuro ls | head`: the reader has all it wanted.
        with contextlib.suppress(BrokenPipeError):
            stream.flush()
    os._exit(code)
