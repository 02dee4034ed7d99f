"""A WRITE body moved from the client's socket into the file by the kernel.

Through aiohttp every uploaded byte is copied from the socket into Python, through the
HTTP parser and a stream buffer, and then from Python into the file: for big uploads the
server's CPU, not the network or the disk, set the pace. For a plain-TCP request whose
body arrives as is (a known length, no compression, no chunked encoding) the handler takes
the socket over once the headers are in: it stops the event loop reading it, keeps what
aiohttp had already buffered, and a worker thread moves the rest with splice(2), socket to
pipe to file, without the bytes ever entering Python.

aiohttp's parser no longer knows where the stream stands afterwards, so the connection is
closed after the answer (`Connection: close`, whatever the answer is: an error may leave
the body unread). The SDK opens a new connection for its next WRITE, which costs far less
on any network than the copies saved.

Where splice(2) is missing (not Linux) or the request is TLS, compressed or chunked,
`take_socket_body` answers None and the body is read through aiohttp as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import hdrs, web

from .anchored import GuardedFd
from .errors import StorageError

PIPE_SIZE = 1024 * 1024  # bytes one splice(2) moves at most; the pipe is grown to this
WRITEBACK_BYTES = 8 * 1024 * 1024  # handed to writeback in runs of this size (fewer calls)
POLL_MS = 100  # how often a waiting worker checks whether the request was cancelled
# How long an answer that failed midway waits for the rest of the body (aiohttp's own
# lingering time for bodies it did not read).
DISCARD_S = 10.0
_TAKEN = web.RequestKey("storage_socket_body_taken", bool)


@dataclass
class SocketBody:
    """A request body taken over from aiohttp: `buffered` (what aiohttp had already read),
    then `unread` bytes still to come from the non-blocking socket `socket_fd`."""

    buffered: bytes
    socket_fd: int
    unread: int

    def move_into(self, file: GuardedFd, offset: int, path: str, stop: threading.Event) -> None:
        """Writes the body into `file` at `offset`, starting the writeback of every
        WRITEBACK_BYTES as they land (blocking: runs in a worker thread). Raises
        StorageError: EINVAL when the body ends early or the connection fails, the file's
        own error otherwise. Stops early, without error, once `stop` is set."""
        position = offset
        try:
            if self.buffered:
                file.pwrite_all(self.buffered, position)
                file.start_writeback(position, len(self.buffered))
                position += len(self.buffered)
            written_back = position  # where the bytes not yet handed to writeback start
            read_end, write_end = os.pipe()
        except OSError as e:
            raise StorageError.from_os_error(e, path) from None
        try:
            with contextlib.suppress(OSError):  # a smaller pipe only means more calls
                fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            while received := self._receive(
                lambda n: os.splice(self.socket_fd, write_end, n), stop, path
            ):
                try:
                    while received:
                        moved = file.splice_from(read_end, received, position)
                        received -= moved
                        position += moved
                    if position - written_back >= WRITEBACK_BYTES:
                        file.start_writeback(written_back, position - written_back)
                        written_back = position
                except OSError as e:
                    raise StorageError.from_os_error(e, path) from None
        finally:
            os.close(read_end)
            os.close(write_end)

    async def discard_rest(self) -> None:
        """Reads what is left of the body and drops it, for DISCARD_S at most. For answers
        that fail before the whole body is in: a client still sending would otherwise
        meet a reset connection instead of reading the answer."""
        deadline = time.monotonic() + DISCARD_S

        def discard(stop: threading.Event) -> None:
            with contextlib.suppress(StorageError):
                while time.monotonic() < deadline and self._receive(
                    lambda n: len(os.read(self.socket_fd, n)), stop, ""
                ):
                    pass

        if self.unread:
            await run_stoppable(discard)

    def _receive(self, receive: Callable[[int], int], stop: threading.Event, path: str) -> int:
        """`receive(n)` on up to PIPE_SIZE of the unread bytes once the socket has some;
        returns how many it took, 0 when none are left or `stop` is set."""
        poller = select.poll()
        poller.register(self.socket_fd, select.POLLIN)
        while self.unread and not stop.is_set():
            try:
                received = receive(min(PIPE_SIZE, self.unread))
            except BlockingIOError:  # the socket is non-blocking (asyncio's)
                poller.poll(POLL_MS)
                continue
            except OSError as e:
                message = f"The upload failed ({e.strerror})"
                raise StorageError(errno.EINVAL, message, path) from None
            if received == 0:
                raise StorageError(errno.EINVAL, "Body is shorter than its Content-Range", path)
            self.unread -= received
            return received
        return 0


async def run_stoppable(work: Callable[[threading.Event], None]) -> None:
    """Runs `work(stop)` in a worker thread. If the caller is cancelled meanwhile, `stop`
    is set and the worker is still waited for, so nothing it uses is closed under it."""
    stop = threading.Event()
    running = asyncio.ensure_future(asyncio.to_thread(work, stop))
    try:
        await asyncio.shield(running)
    except asyncio.CancelledError:
        stop.set()
        with contextlib.suppress(Exception):
            await running
        raise


def take_socket_body(request: web.Request) -> SocketBody | None:
    """Takes the rest of the request's body out of aiohttp's hands, or answers None where
    that cannot be done (see the module docstring). Marks the request so that its answer,
    whatever it is, closes the connection (`close_taken_connections`)."""
    length = request.content_length
    if not hasattr(os, "splice") or length is None:
        return None
    if request.headers.get(hdrs.CONTENT_ENCODING, "identity") != "identity":
        return None
    if hdrs.TRANSFER_ENCODING in request.headers:
        return None
    transport = request.transport
    if transport is None or transport.get_extra_info("ssl_object") is not None:
        return None
    sock = transport.get_extra_info("socket")
    if sock is None or request.content.exception() is not None:
        return None
    # The event loop stops reading the socket. Taking what aiohttp buffered, and marking
    # the body as read (so aiohttp does not wait for the rest after answering), make it
    # resume reading (its flow control), so the transport is paused once more after: no
    # await comes in between, so no byte can slip into aiohttp meanwhile.
    transport.pause_reading()
    buffered = request.content.read_nowait()
    request.content.feed_eof()
    transport.pause_reading()
    request[_TAKEN] = True
    return SocketBody(buffered, sock.fileno(), length - len(buffered))


async def close_taken_connections(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare` hook: the answer to a request whose body was taken closes its
    connection, since the stream now stands where aiohttp's parser cannot follow."""
    if request.get(_TAKEN):
        response.force_close()
        # Said outright too: aiohttp may have written the headers' keep-alive already.
        response.headers[hdrs.CONNECTION] = "close"
