"""The rest of a big download's body moved from its socket into the file by the kernel.

Through aiohttp every byte of a download is copied from the socket into Python, through
the HTTP parser and a stream buffer, and then from Python into the file: on loopback and
fast networks the client's CPU, not the network, sets the pace. For a plain-TCP answer
whose body arrives as is (a known length, no compression, no chunked encoding) the client
takes the socket over once the headers are in: it stops the event loop reading it, keeps
what aiohttp had already buffered, and a worker thread moves the rest with splice(2),
socket to pipe to file, without the bytes ever entering Python. The connection is closed
afterwards, since aiohttp no longer knows where its stream stands.

Where splice(2) is missing (not Linux) or the answer is TLS, compressed or chunked,
`SplicedBody.take` answers None and the download reads through aiohttp as before.
"""

import asyncio
import contextlib
import fcntl
import os
import select
import threading
from collections.abc import Callable

import aiohttp

PIPE_SIZE = 1024 * 1024  # bytes one splice(2) moves at most; the pipe is grown to this
POLL_MS = 100  # how often a waiting worker checks whether the download was cancelled


class SplicedBody:
    """A response body taken over from aiohttp: `buffered` (what aiohttp had already
    read) and then `remaining` bytes still in the socket, which `into` writes to a file.
    `moved` counts the bytes written there so far, also when `into` fails."""

    def __init__(self, response: aiohttp.ClientResponse, socket_fd: int, buffered: bytes) -> None:
        self._response = response
        self._socket_fd = socket_fd
        self.buffered = buffered
        assert response.content_length is not None
        self.remaining = response.content_length - len(buffered)
        self.moved = 0

    @classmethod
    def take(cls, response: aiohttp.ClientResponse) -> "SplicedBody | None":
        if not hasattr(os, "splice") or response.content_length is None:
            return None
        if response.headers.get("Content-Encoding", "identity") != "identity":
            return None
        if "Transfer-Encoding" in response.headers:
            return None
        connection = response.connection
        transport = connection.transport if connection is not None else None
        if transport is None or transport.get_extra_info("ssl_object") is not None:
            return None
        sock = transport.get_extra_info("socket")
        if sock is None or response.content.exception() is not None:
            return None
        # The event loop stops reading the socket. Taking what aiohttp buffered may make
        # it resume reading (its flow control), so the transport is paused once more after:
        # no await comes in between, so no byte can slip into aiohttp meanwhile.
        assert isinstance(transport, asyncio.ReadTransport)
        transport.pause_reading()
        buffered = [response.content.read_nowait()]
        transport.pause_reading()
        buffered.append(response.content.read_nowait())
        return cls(response, sock.fileno(), b"".join(buffered))

    async def into(self, fd: int, report: Callable[[int], None], report_every: int) -> None:
        """Writes the rest of the body at `fd`'s position; `report(moved)` after every
        `report_every` bytes or more.
        Raises aiohttp.ClientPayloadError if the connection fails or ends early."""
        loop = asyncio.get_running_loop()
        stop = threading.Event()

        def report_soon(moved: int) -> None:
            loop.call_soon_threadsafe(report, moved)

        work = asyncio.ensure_future(
            asyncio.to_thread(self._splice, fd, stop, report_soon, report_every)
        )
        try:
            # Shielded: a cancelled download stops the worker and still waits for it, so
            # the file is never closed under a write.
            await asyncio.shield(work)
        except asyncio.CancelledError:
            stop.set()
            with contextlib.suppress(Exception):
                await work
            raise
        finally:
            self._response.close()  # aiohttp's parser no longer matches the stream

    def _splice(
        self, fd: int, stop: threading.Event, report: Callable[[int], None], report_every: int
    ) -> None:
        read_end, write_end = os.pipe()
        try:
            with contextlib.suppress(OSError):  # a smaller pipe only means more calls
                fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            poller = select.poll()
            poller.register(self._socket_fd, select.POLLIN)
            reported = 0
            while self.moved < self.remaining and not stop.is_set():
                wanted = min(PIPE_SIZE, self.remaining - self.moved)
                try:
                    received = os.splice(self._socket_fd, write_end, wanted, flags=os.SPLICE_F_MOVE)
                except BlockingIOError:  # the socket is non-blocking (asyncio's)
                    poller.poll(POLL_MS)
                    continue
                except OSError as error:
                    raise aiohttp.ClientPayloadError(f"The download failed: {error}") from error
                if received == 0:
                    raise aiohttp.ClientPayloadError("The answer ended before the end of the file")
                while received:  # errors here are the local file's: not for a retry
                    written = os.splice(read_end, fd, received, flags=os.SPLICE_F_MOVE)
                    received -= written
                    self.moved += written
                if self.moved - reported >= report_every:
                    reported = self.moved
                    report(reported)
        finally:
            os.close(read_end)
            os.close(write_end)
