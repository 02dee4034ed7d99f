"""The one rich Console every command prints through, honouring ``--color``."""

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.console import Console

ColorMode = Literal["yes", "no", "auto"]
COLOR_MODES: tuple[ColorMode, ...] = ("yes", "no", "auto")


def make_console(color: ColorMode) -> "Console":
    # rich is imported here, when there is something to print, not at start-up.
    from rich.console import Console

    # No `file=`: rich then writes to whatever sys.stdout is at print time, which is
    # what click's test runner and output redirection expect.
    if color == "yes":
        return Console(force_terminal=True, highlight=False)
    if color == "no":
        # Without a color system rich renders styles as plain text.
        return Console(color_system=None, highlight=False)
    # auto: colors only on a terminal; rich also honours NO_COLOR and COLUMNS.
    return Console(highlight=False)
