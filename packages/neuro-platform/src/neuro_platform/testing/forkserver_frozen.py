"""Imported last by the test servers' forkserver (`forked.py`): what the forkserver imported
is frozen out of the garbage collector's walks, so each forked server's start-up collection
(`process_gc.settle_heap`) walks only what the server itself made, not every module again
(and does not write to, so copy, the pages it shares with the forkserver)."""

import gc

gc.collect()
gc.freeze()
