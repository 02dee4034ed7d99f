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

The young threshold is above what one page of a listing holds at once (about 13 tracked
objects per decoded job and its row: some 15,000 for a page of 1,000 jobs, two pages while
the next is read). At 10,000, collections ran in the middle of pages and promoted their
objects, which died a moment later, into the older generations, and so set off full
collections, which walk every job the repository keeps: 150–210 ms each with the GIL held,
and the slowest `/ping` during a listing of 100k jobs was 184–243 ms. At 30,000 no full
collection ran in that listing and the slowest `/ping` was 39–61 ms (docs/performance.md,
"seventh round").
"""

import gc

YOUNG_OBJECTS = 30_000  # CPython's default is 700


def settle_heap() -> None:
    """Call once start-up has imported and built what the process keeps."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)
