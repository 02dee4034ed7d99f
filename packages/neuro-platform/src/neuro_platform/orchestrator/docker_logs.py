"""Raw container output from the Docker Engine's logs endpoint.

aiodocker's `log()` decodes output as UTF-8 and silently drops invalid bytes; job logs are
bytes (the log websocket sends binary frames), so the stream is read and split here.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import aiohttp

# Without a TTY the engine multiplexes stdout and stderr: an 8-byte header (stream type,
# three zero bytes, big-endian payload length), then the payload.
_FRAME_HEADER = struct.Struct(">BxxxL")


async def demultiplexed(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    while True:
        try:
            header = await content.readexactly(_FRAME_HEADER.size)
            _stream, length = _FRAME_HEADER.unpack(header)
            payload = await content.readexactly(length) if length else b""
        except asyncio.IncompleteReadError:
            return  # the engine closed the stream: the container's output is complete
        if payload:
            yield payload


async def raw(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    async for chunk in content.iter_any():
        yield chunk
