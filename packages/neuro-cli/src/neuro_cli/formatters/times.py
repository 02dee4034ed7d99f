"""How every date and time the CLI prints looks, stated once: `YYYY-MM-DD HH:MM:SS` in local
time, or ISO 8601 with its offset under the global `--iso-datetime-format` (as the original
CLI's). The root command sets `ISO_DATETIME` once per invocation, so that no formatter needs
the option passed down to it."""

from contextvars import ContextVar
from datetime import datetime, tzinfo

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Set by the root command from --iso-datetime-format; asyncio tasks inherit it.
ISO_DATETIME: ContextVar[bool] = ContextVar("iso_datetime", default=False)


def format_datetime(
    value: datetime | None, tz: tzinfo | None = None, iso: bool | None = None
) -> str:
    """``value`` in ``tz`` (default: local time); "" when there is none. ``iso`` overrides
    the global option (None: follow it)."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    use_iso = ISO_DATETIME.get() if iso is None else iso
    return local.isoformat() if use_iso else local.strftime(TIME_FORMAT)


def format_timestamp(seconds: float, tz: tzinfo | None = None) -> str:
    """A POSIX timestamp, as `format_datetime` prints a moment."""
    return format_datetime(datetime.fromtimestamp(seconds).astimezone(), tz)
