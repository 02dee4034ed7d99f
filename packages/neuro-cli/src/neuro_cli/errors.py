"""How failures reach the user: one ``ERROR: ...`` line and a sensible exit code.

Commands raise whatever the SDK raises; the root group (see ``main.py``) turns every
exception into :class:`UserError` through :func:`describe_error`, so the wording of a
failure lives here and nowhere else.
"""

import click

import neuro_sdk

EXIT_ERROR = 1
EXIT_USAGE = 2  # what click uses for usage errors, kept for them
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C


class UserError(click.ClickException):
    """A failure the user can act on; shown as one line, never with a traceback."""

    exit_code = EXIT_ERROR

    def show(self, file: object = None) -> None:
        click.echo(error_line(self.format_message()), err=True)


class NotLoggedInError(UserError):
    def __init__(self) -> None:
        super().__init__("You are not logged in; run 'neuro login' first")


def error_line(message: str) -> str:
    # Server messages may span lines; the contract is exactly one line on stderr.
    return "ERROR: " + " ".join(message.split())


def describe_error(exc: BaseException) -> str:
    # Imported only when something failed: aiohttp is slow to import, and a command
    # that fails on the network has imported it already anyway.
    import aiohttp

    # Failures that come from the user's input, config or network rather than from a bug
    # in this program: their message alone tells the user what went wrong.
    expected_errors: tuple[type[BaseException], ...] = (
        neuro_sdk.NeuroError,
        ValueError,
        OSError,
        aiohttp.ClientError,
    )
    if isinstance(exc, TimeoutError):
        return "The server did not answer in time"
    if isinstance(exc, aiohttp.ClientConnectionError):
        return f"Cannot connect to the Neuro Platform: {exc or type(exc).__name__}"
    if type(exc).__module__.startswith("aiodocker"):
        # The local Docker Engine's failures (DockerError): "[status] message" → message.
        return str(getattr(exc, "message", "") or exc)
    text = str(exc) or type(exc).__name__
    if isinstance(exc, expected_errors):
        return text
    return f"Unexpected {type(exc).__name__}: {text} (run with -v to see the traceback)"
