"""An `/etc/hosts` of jobs: how one owner's jobs find the jobs they may reach by name.

Every job container of an owner mounts the owner's file read-only at `/etc/hosts` (see
`job_networks.py` for who is listed), and the scheduler writes a line into it when a job
starts and blanks that line when the job ends. The C library reads `/etc/hosts` on every
lookup, so a new job is reachable at once.

Why a file and not the engine's DNS: the engine's names would be every container on the
network, while the permissions decide who is named; and the file gives a name the moment
the platform knows the address.

The file is rewritten in place, never replaced: a bind mount pins the file (inode) it was made
from, so a new file would go unseen by the running jobs. Every line is a slot of one fixed
width, so a change rewrites one slot with one small write and readers never see a line cut in
two; the slots of ended jobs are reused.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

SLOT_BYTES = 256  # a divisor of the page size: one slot never spans two pages
HEADER = (
    "# Written by the Neuro platform: the internal host names of the jobs reachable from here.",
    "127.0.0.1 localhost",
    "::1 localhost ip6-localhost ip6-loopback",
)
# What may stand in a hosts file line: an address or a name, nothing that ends the line.
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:_-]*")


def _slot(text: str) -> bytes:
    line = text.encode()
    if len(line) >= SLOT_BYTES:
        raise ValueError(f"hosts line longer than {SLOT_BYTES - 1} bytes: {text!r}")
    return line.ljust(SLOT_BYTES - 1) + b"\n"


_FREE_SLOT = _slot("#")


class HostsFile:
    """One hosts file. Call `reset` once before the first `add` or `remove`, with
    the jobs that still run: what an earlier run of the platform wrote is not trusted."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # World-readable: a job may run as any user of its image.
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.fchmod(self._fd, 0o644)
        self._slots: dict[str, int] = {}  # job id -> slot index
        self._free: list[int] = []
        self._used = len(HEADER)

    def close(self) -> None:
        os.close(self._fd)

    def reset(self, entries: Mapping[str, tuple[str, Sequence[str]]]) -> None:
        """Rewrites the whole file: the header, then one line per job id -> (address, names)."""
        self._slots.clear()
        self._free.clear()
        lines = [_slot(line) for line in HEADER]
        for job_id, (address, names) in entries.items():
            if (line := _line(job_id, address, names)) is not None:
                self._slots[job_id] = len(lines)
                lines.append(line)
        self._used = len(lines)
        content = b"".join(lines)
        os.pwrite(self._fd, content, 0)
        os.ftruncate(self._fd, len(content))

    def add(self, job_id: str, address: str, names: Sequence[str]) -> None:
        """Points `names` at `address`; a job added again (restarted) keeps its slot."""
        line = _line(job_id, address, names)
        if line is None:
            return
        slot = self._slots.get(job_id)
        if slot is None:
            slot = self._free.pop() if self._free else self._next_slot()
            self._slots[job_id] = slot
        os.pwrite(self._fd, line, slot * SLOT_BYTES)

    def remove(self, job_id: str) -> None:
        slot = self._slots.pop(job_id, None)
        if slot is not None:
            os.pwrite(self._fd, _FREE_SLOT, slot * SLOT_BYTES)
            self._free.append(slot)

    def _next_slot(self) -> int:
        self._used += 1
        return self._used - 1


def _line(job_id: str, address: str, names: Iterable[str]) -> bytes | None:
    tokens = [address, *names]
    if not all(_TOKEN.fullmatch(token) for token in tokens):
        log.error("not writing a hosts line for %s: %r", job_id, tokens)
        return None
    text = address
    for name in names:  # the most important name first: one that does not fit is left out
        if len(text) + 1 + len(name) >= SLOT_BYTES:
            log.warning("hosts line of %s full: leaving out %s", job_id, name)
            continue
        text = f"{text} {name}"
    return _slot(text)
