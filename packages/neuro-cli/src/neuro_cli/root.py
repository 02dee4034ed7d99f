"""What every command receives: the global options, the console and the SDK factory."""

# Annotations stay unevaluated: naming SDK and rich classes in them must not import those
# modules at start-up.
from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import neuro_sdk
from neuro_cli import process_gc
from neuro_cli.console import ColorMode, make_console
from neuro_cli.errors import NotLoggedInError

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


@dataclass(frozen=True)
class GlobalOptions:
    config_path: Path | None  # None: NEUROMATION_CONFIG or the SDK's default
    verbosity: int  # count of -v minus count of -q
    color: ColorMode
    network_timeout: float = 60.0  # seconds each network read may take (--network-timeout)
    show_traceback: bool = False
    iso_datetime_format: bool = False
    trace: bool = False  # print each HTTP request and reply to stderr
    trace_hide_token: bool = True
    # --x-trace-all: every request's trace headers say "sampled" (b3 `-1`, sentry-trace
    # `-1`), asking the server to trace them all (docs/protocol.md §1); else the server decides.
    trace_all: bool = False


@dataclass(frozen=True)
class Root:
    options: GlobalOptions
    factory: neuro_sdk.Factory

    @classmethod
    def create(cls, options: GlobalOptions) -> Root:
        sampled = True if options.trace_all else None
        return cls(
            options=options,
            factory=neuro_sdk.Factory(options.config_path, trace_sampled=sampled),
        )

    @functools.cached_property
    def console(self) -> Console:
        # Made on first use: rich takes tens of milliseconds to import, and commands that
        # print nothing (a plain `neuro cp`) never need it.
        return make_console(self.options.color)

    @property
    def quiet(self) -> bool:
        return self.options.verbosity < 0

    @property
    def stdin_is_tty(self) -> bool:
        return sys.stdin.isatty()

    def print(self, renderable: RenderableType, *, soft_wrap: bool = False) -> None:
        """Print what the user asked for; shown even with -q."""
        self.console.print(renderable, soft_wrap=soft_wrap, markup=False)

    def info(self, renderable: RenderableType) -> None:
        """Print a progress or confirmation message; -q silences it."""
        if not self.quiet:
            self.console.print(renderable, soft_wrap=True, markup=False)

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[neuro_sdk.Client]:
        import aiohttp

        from neuro_cli.trace import trace_config

        timeout = aiohttp.ClientTimeout(
            total=None, connect=self.options.network_timeout, sock_read=self.options.network_timeout
        )
        if self.options.trace:
            factory = neuro_sdk.Factory(
                self.factory.path,
                trace_configs=[trace_config(hide_token=self.options.trace_hide_token)],
                trace_sampled=True if self.options.trace_all else None,
            )
        else:
            factory = self.factory
        try:
            client = await factory.get(timeout=timeout)
        except neuro_sdk.ConfigError as exc:
            # A broken config deserves the SDK's own words; a missing one, a hint.
            if self.factory.is_config_present:
                raise
            raise NotLoggedInError() from exc
        process_gc.start_up_done()
        try:
            yield client
        finally:
            await client.close()
