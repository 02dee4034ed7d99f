"""A WRITE body moved from the client's socket into the file by the kernel.

Through aiohttp every uploaded byte is copied from the socket into Python, through the
HTTP parser and a stream buffer, and then from Python into the file: for big uploads the
server's CPU, not the network or the disk, set the pace. For a plain-TCP request whose
body arrives as is (a known length, no compression, no chunked encoding) the handler takes
the socket over once the headers are in: it stops the event loop reading it, keeps what
aiohttp had already buffered, and moves the rest with splice(2), socket to pipe to file,
without the bytes ever entering Python.

The splicing runs in worker threads of its own pool, and only while bytes flow: when the
socket stays empty for a moment the worker hands the wait back to the event loop. So a
slow or stalled client holds a coroutine, as with aiohttp, not a thread, and no upload
can starve the threads the rest of the storage service works in.

aiohttp's parser no longer knows where the stream stands afterwards, so the connection is
closed after the answer (`Connection: close`, whatever the answer is). An answer that
fails before the whole body is in reads and drops the rest first (`discard_rest`): a
client still sending would otherwise meet a reset connection instead of the answer. The
SDK opens a new connection for its next WRITE, which costs far less than the copies saved.

Where splice(2) is missing (not Linux) or the request is TLS, compressed or chunked,
`take_socket_body` answers None and the body is read through aiohttp as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import functools
import os
import select
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from aiohttp import hdrs, web

from .anchored import GuardedFd
from .errors import StorageError

PIPE_SIZE = 1024 * 1024  # bytes one splice(2) moves at most; the pipe is grown to this
WRITEBACK_BYTES = 8 * 1024 * 1024  # handed to writeback in runs of this size (fewer calls)
# A worker waits this long for more bytes before it hands the wait to the event loop, and
# only after a read of at least FLOWING_BYTES: a trickling client gets no thread to hold.
FLOWING_WAIT_MS = 50
FLOWING_BYTES = 64 * 1024
# How long an answer that failed midway waits for the rest of the body (aiohttp's own
# lingering time for bodies it did not read).
DISCARD_S = 10.0
_SPLICERS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="storage-splice")
_TAKEN = web.RequestKey("storage_socket_body_taken", bool)


class SocketBody:
    """A request body taken over from aiohttp: `buffered` (what aiohttp had already read),
    then `unread` bytes still to come from the socket. Holds a duplicate of the socket's
    descriptor (non-blocking, as asyncio's), closed when the body is left (`with`)."""

    def __init__(self, buffered: bytes, socket_fd: int, unread: int) -> None:
        self.buffered = buffered
        self.unread = unread
        self._fd = socket_fd

    def __enter__(self) -> SocketBody:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        os.close(self._fd)

    async def move_into(self, file: GuardedFd, offset: int, path: str) -> None:
        """Writes the body into `file` at `offset`. Raises StorageError: EINVAL when the
        body ends early or the connection fails, the file's own error otherwise."""
        sink = _FileSink(file, offset, path)
        try:
            await asyncio.get_running_loop().run_in_executor(_SPLICERS, sink.write, self.buffered)
            while self.unread:
                await self._readable()
                await _run_stoppable(functools.partial(self._move_while_flowing, sink, path))
        finally:
            sink.close()

    async def discard_rest(self) -> None:
        """Reads what is left of the body and drops it, for DISCARD_S at most."""
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(DISCARD_S):
                while self.unread:
                    await self._readable()
                    try:
                        dropped = len(os.read(self._fd, min(PIPE_SIZE, self.unread)))
                    except BlockingIOError:
                        continue
                    if not dropped:
                        return
                    self.unread -= dropped

    def _move_while_flowing(self, sink: _FileSink, path: str, stop: threading.Event) -> None:
        """Splices bytes into `sink` while they keep coming (blocking: in a worker)."""
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        flowing = False
        while self.unread and not stop.is_set():
            try:
                received = os.splice(self._fd, sink.pipe_in, min(PIPE_SIZE, self.unread))
            except BlockingIOError:
                if flowing and poller.poll(FLOWING_WAIT_MS):
                    flowing = False  # go on only while each wait brings a good read
                    continue
                return  # the event loop waits for the next bytes instead
            except OSError as e:
                message = f"The upload failed ({e.strerror})"
                raise StorageError(errno.EINVAL, message, path) from None
            if received == 0:
                raise StorageError(errno.EINVAL, "Body is shorter than its Content-Range", path)
            self.unread -= received
            flowing = received >= FLOWING_BYTES
            sink.splice_in(received)

    async def _readable(self) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(self._fd, wake)
        try:
            await ready
        finally:
            loop.remove_reader(self._fd)


class _FileSink:
    """Where a spliced body goes: a pipe (splice(2) needs one between socket and file)
    whose bytes are moved into the file at increasing offsets, handed to writeback every
    WRITEBACK_BYTES so that the flush ending the WRITE waits for little."""

    def __init__(self, file: GuardedFd, offset: int, path: str) -> None:
        self._file = file
        self._position = offset
        self._written_back = offset
        self._path = path
        with self._translated():
            self._pipe_out, self.pipe_in = os.pipe()
        with contextlib.suppress(OSError):  # a smaller pipe only means more calls
            fcntl.fcntl(self.pipe_in, fcntl.F_SETPIPE_SZ, PIPE_SIZE)

    def write(self, data: bytes) -> None:
        with self._translated():
            self._file.pwrite_all(data, self._position)
        self._position += len(data)

    def splice_in(self, length: int) -> None:
        """Moves `length` bytes, already in the pipe, into the file."""
        with self._translated():
            while length:
                moved = self._file.splice_from(self._pipe_out, length, self._position)
                length -= moved
                self._position += moved
            if self._position - self._written_back >= WRITEBACK_BYTES:
                self._file.start_writeback(self._written_back, self._position - self._written_back)
                self._written_back = self._position

    def close(self) -> None:
        os.close(self._pipe_out)
        os.close(self.pipe_in)

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except OSError as e:
            raise StorageError.from_os_error(e, self._path) from None


async def _run_stoppable(work: Callable[[threading.Event], None]) -> None:
    """Runs `work(stop)` in a splicing worker. If the caller is cancelled meanwhile, `stop`
    is set and the worker is still waited for, so nothing it uses is closed under it."""
    stop = threading.Event()
    running = asyncio.get_running_loop().run_in_executor(_SPLICERS, work, stop)
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
    # A duplicate descriptor: asyncio refuses to watch the transport's own one for us.
    return SocketBody(buffered, os.dup(sock.fileno()), length - len(buffered))


async def close_taken_connections(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare` hook: the answer to a request whose body was taken closes its
    connection, since the stream now stands where aiohttp's parser cannot follow."""
    if request.get(_TAKEN):
        response.force_close()
        # Said outright too: aiohttp may have written the headers' keep-alive already.
        response.headers[hdrs.CONNECTION] = "close"
