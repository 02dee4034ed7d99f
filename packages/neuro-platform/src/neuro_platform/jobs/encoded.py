"""The encoded wire form of finished jobs (docs/protocol.md §3.5), kept while the job object
lives: shaping and encoding a job is most of a listing's cost, and listings send the same
finished jobs again and again.

A finished job's object never changes (entities are frozen; a change is a new object) and its
wire form no longer depends on the time (its run time is over), so the bytes made from one
object stay right for as long as that object exists: entries are keyed by the object's
identity and dropped with it. The repository's bounded cache of jobs is what keeps the
objects of listed jobs alive, so this one is bounded by it and needs no limit of its own.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from .entities import Job


class EncodedJobs:
    def __init__(self) -> None:
        # id(job) -> (a weak reference to that job, its encoded form). Safe from worker
        # threads: each dict operation is atomic.
        self._encoded: dict[int, tuple[weakref.ref[Job], bytes]] = {}

    def __len__(self) -> int:
        return len(self._encoded)

    def encoded(self, job: Job, encode: Callable[[Job], bytes]) -> bytes:
        """`encode(job)`, made once per finished job object."""
        if not job.is_finished:
            return encode(job)  # its run time and price grow: encoded anew each time
        key = id(job)
        entry = self._encoded.get(key)
        if entry is not None and entry[0]() is job:
            return entry[1]
        data = encode(job)

        def forget(ref: weakref.ref[Job]) -> None:
            # Only our own entry: the id may already belong to another object's.
            current = self._encoded.get(key)
            if current is not None and current[0] is ref:
                self._encoded.pop(key, None)

        self._encoded[key] = (weakref.ref(job, forget), data)
        return data
