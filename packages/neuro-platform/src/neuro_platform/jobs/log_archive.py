"""Job output kept after its containers are gone: `<archive dir>/<job id>.log`.

Each run's output is appended, with the engine's RFC 3339 timestamp before every line, when
its container is removed; `neuro logs` of a finished (or restarted) job reads from here.
A crash between appending and removing the container repeats that run's output once: the
price of never losing any.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

from ..orchestrator import ContainerNotFoundError, Orchestrator
from ..orchestrator.naming import check_name_part

READ_CHUNK = 64 * 1024


class LogArchive:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def path(self, job_id: str) -> Path:
        return self._directory / f"{check_name_part('job id', job_id)}.log"

    async def append_run(self, orchestrator: Orchestrator, job_id: str) -> None:
        """Copies the output of the job's current container (which must have exited)."""
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        chunks = []
        try:
            async for chunk in orchestrator.logs(job_id, timestamps=True):
                chunks.append(chunk)
        except ContainerNotFoundError:
            return
        data = b"".join(chunks)
        if data and not data.endswith(b"\n"):
            data += b"\n"
        await asyncio.to_thread(_append, self.path(job_id), data)

    async def read(self, job_id: str, offset: int = 0) -> AsyncIterator[bytes]:
        path = self.path(job_id)
        try:
            f = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            return
        try:
            f.seek(offset)
            while chunk := await asyncio.to_thread(f.read, READ_CHUNK):
                yield chunk
        finally:
            f.close()

    def size(self, job_id: str) -> int:
        try:
            return self.path(job_id).stat().st_size
        except FileNotFoundError:
            return 0


def _append(path: Path, data: bytes) -> None:
    # Job output may hold anything the job printed: readable by the platform's user only.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "ab") as f:
        f.write(data)
