"""The garbage collector's settings for a ``neuro`` process (docs/performance.md).

A command imports the CLI, the SDK, aiohttp and rich, makes its client, does one thing and
exits. What start-up imports and builds is never garbage, yet the collector walked it while
it was being made: `neuro ls` ran some 20 collections before its listing began, 10-15 ms
of its ~0.3 s of CPU. So ``main`` pauses the collector, and the command's client being
made ends start-up (``Root.client``): what exists then is frozen out of every collection,
and collections run as usual from there on. A command that makes no client (``--help``,
``login``) runs without them: it is short, and reference counting still frees all but
cycles.

Only ``main`` pauses it: a program that runs the CLI in-process (the tests, through
``cli.main``) keeps its own collector as it is.
"""

import gc

# Young collections after this many new objects (CPython: 700). What a command builds mostly
# lives until it exits, and the default thresholds have the collector walk it again and
# again (`neuro ps -a` of 10k jobs: 0.06 s of collections; docs/performance.md).
YOUNG_OBJECTS = 10_000

_paused = False


def pause_for_start_up() -> None:
    """What the process made so far is kept out of every collection, and none runs until
    ``start_up_done``."""
    global _paused
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    gc.disable()
    _paused = True


def start_up_done() -> None:
    """The command's work begins: collections resume, start-up's objects left out of them.
    Does nothing unless ``pause_for_start_up`` paused the collector."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
