"""Raw container output from the Docker Engine's logs endpoint.

aiodocker's `log()` decodes output as UTF-8 and silently drops invalid bytes; job logs are
bytes (the log websocket sends binary frames), so the stream is read and split here.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

import aiohttp

# Without a TTY the engine multiplexes stdout and stderr: an 8-byte header (stream type,
# three zero bytes, big-endian payload length), then the payload.
_FRAME_HEADER = struct.Struct(">BxxxL")
READ_CHUNK = 1024 * 1024


async def demultiplexed(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """The payloads of the frames, joined per chunk read: a chatty job's output comes as
    millions of small frames, too many to await one by one."""
    buffer = b""
    while chunk := await content.read(READ_CHUNK):
        buffer += chunk
        payloads, position = _frames(buffer)
        buffer = buffer[position:]
        if payloads:
            yield payloads
    # The engine closed the stream: the container's output is complete (a cut frame is lost).


def _frames(buffer: bytes) -> tuple[bytes, int]:
    """The payloads of the whole frames at the start of `buffer`, and where they end."""
    payloads = []
    position = 0
    while len(buffer) - position >= _FRAME_HEADER.size:
        _stream, length = _FRAME_HEADER.unpack_from(buffer, position)
        end = position + _FRAME_HEADER.size + length
        if end > len(buffer):
            break
        payloads.append(buffer[position + _FRAME_HEADER.size : end])
        position = end
    return b"".join(payloads), position


async def raw(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    async for chunk in content.iter_any():
        yield chunk
