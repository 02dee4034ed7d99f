"""The garbage collector's settings for the server process (docs/performance.md, "fourth
round").

A listing of jobs the server has not read yet decodes thousands of them into objects that
stay (the repository's cache keeps them): with CPython's default thresholds the collector
then walks the whole heap (every module, class and cached job) several times over, which was
a third or more of a cold listing's decoding and shaping (10k jobs in process: two full
collections, 0.18 s of 0.55 s on a quiet machine).
What start-up made is never garbage, so it is frozen out of every collection, and young
collections run after 10,000 new objects instead of 700, so a listing's objects are not
walked again and again while it runs. Cycles still get collected, a little later (the
count is of objects allocated less those freed, so it grows only with what stays).
"""

import gc

YOUNG_OBJECTS = 10_000  # CPython's default is 700


def settle_heap() -> None:
    """Call once start-up has imported and built what the process keeps."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)
