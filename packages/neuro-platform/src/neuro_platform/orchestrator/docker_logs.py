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
# The engine's log copier cuts lines into pieces of this size (its buffer).
PIECE_BYTES = 16 * 1024


async def demultiplexed(
    content: aiohttp.StreamReader, *, timestamps: bool = False
) -> AsyncIterator[bytes]:
    """The payloads of the frames, joined per chunk read: a chatty job's output comes as
    millions of small frames, too many to await one by one.

    The engine cuts a line longer than 16 KiB into frames that each start with a timestamp;
    those of the pieces after the first are dropped, so the line comes back whole, with the
    newline the engine dropped after it. (Output that ends without one gets one, too.)
    """
    buffer = b""
    continued = False  # the last payload ended inside a line
    while chunk := await content.read(READ_CHUNK):
        buffer += chunk
        payloads = []
        position = 0
        while len(buffer) - position >= _FRAME_HEADER.size:
            _stream, length = _FRAME_HEADER.unpack_from(buffer, position)
            end = position + _FRAME_HEADER.size + length
            if end > len(buffer):
                break
            payload = buffer[position + _FRAME_HEADER.size : end]
            position = end
            if not payload:
                continue
            text_at = payload.find(b" ") + 1 if timestamps else 0
            if continued:
                payload = payload[text_at:]
                text_at = 0
            continued = False
            if not payload.endswith(b"\n"):
                # A full piece continues in the next frame; the engine (20.10) drops the
                # newline after the last piece of a cut line, and after that only.
                continued = len(payload) - text_at == PIECE_BYTES
                if not continued:
                    payload += b"\n"
            payloads.append(payload)
        buffer = buffer[position:]
        if payloads:
            yield b"".join(payloads)
    # The engine closed the stream: the container's output is complete (a cut frame is lost).


async def raw(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    async for chunk in content.iter_any():
        yield chunk
