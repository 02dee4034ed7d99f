"""How often the server's threads hand the GIL to each other (docs/performance.md, "ninth
round").

A listing of jobs decodes and encodes its pages in worker threads, in Python code that holds
the GIL. The event loop, which answers every other request, needs the GIL back at each of its
turns, and a thread that holds it lets go only after the switch interval: CPython's 5 ms. A
request read, handled and answered in several turns waited that long at each one, so `/ping`
during a listing of 100k jobs had a p99 of 30–38 ms. With 1 ms it was 14–20 ms (and 5–11 ms
against 12–18 ms at 1k and 10k jobs), for a listing 4–8% slower: the workers switch out more
often.
"""

import sys

SWITCH_INTERVAL_S = 0.001  # CPython's default is 0.005


def hand_the_gil_over_often() -> None:
    """Call once at start-up, before the server's threads start."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
