"""A request body that is a range of a local file, sent by the kernel with sendfile(2).

An upload's WRITE carries up to 1 GiB of the file. Read into Python and handed to aiohttp,
every byte is copied twice on the client (file → Python → socket) and crosses the event
loop in blocks; with sendfile(2) the kernel moves the range from the page cache to the
socket itself. asyncio falls back to reading and writing where the transport cannot do
sendfile (TLS), so the body is the same either way.
"""

import asyncio
from collections.abc import Callable
from pathlib import Path

from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_writer import StreamWriter
from aiohttp.payload import Payload


class FileRangePayload(Payload):
    """Bytes ``start``..``start + length`` of the file at ``path``, read when sent (so each
    retry of a request reads the file anew). ``on_sent(sent)`` follows every ``piece``
    bytes handed to the kernel, for progress bars: a WRITE carries up to 1 GiB, which a slow
    network takes seconds to move."""

    def __init__(
        self,
        path: Path,
        start: int,
        length: int,
        on_sent: Callable[[int], None] | None = None,
        piece: int = 8 * 2**20,
    ) -> None:
        super().__init__(path, content_type="application/octet-stream")
        self._path = path
        self._start = start
        self._size = length
        self._on_sent = on_sent
        self._piece = piece

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("A file range is sent as bytes, never decoded")

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        length = self._size or 0
        if content_length is not None:
            length = min(length, content_length)
        if not isinstance(writer, StreamWriter) or writer.transport is None:
            raise RuntimeError("A file range needs aiohttp's own stream writer")
        # The headers aiohttp keeps back to send with the first body bytes go out first.
        writer.send_headers()
        await writer.drain()
        # Opened and closed right here, not in a worker thread: a request cut while that
        # thread worked would leave its file open, and opening a file to read it (or closing
        # it, with nothing to flush) takes microseconds.
        file = self._path.open("rb")
        try:
            loop = asyncio.get_running_loop()
            sent = 0
            while sent < length:
                wanted = min(self._piece, length - sent)
                moved = await loop.sendfile(writer.transport, file, self._start + sent, wanted)
                sent += moved
                if moved < wanted:
                    raise OSError(f"{self._path} became shorter while it was uploaded")
                if self._on_sent is not None:
                    self._on_sent(sent)
        finally:
            file.close()

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return await asyncio.to_thread(read_range, self._path, self._start, self._size or 0)


def read_range(path: Path, start: int, length: int) -> bytes:
    """Bytes `start`..`start + length` of the file (fewer at its end)."""
    with path.open("rb") as file:
        file.seek(start)
        return file.read(length)
