"""What moving a file through a loopback TCP connection costs on this machine, kernel only.

The bound of any client and server that talk over a socket, whatever their language: a
sender thread hands the file to the socket with sendfile(2), a receiver thread moves the
bytes from the socket into a new file with splice(2) through a pipe, and, for an upload's
like-for-like, flushes it (writeback started every 8 MiB, fdatasync at the end), as our
server does. Plain `cp` copies each byte once; this path copies it twice (page cache to
socket buffer, socket buffer to page cache). Linux only, as splice(2) is.
"""

import ctypes
import fcntl
import os
import socket
import threading
import time
from pathlib import Path

PIPE_SIZE = 2**20
SEND_PIECE = 8 * 2**20
WRITEBACK_EVERY = 8 * 2**20
SYNC_FILE_RANGE_WRITE = 2


def loopback_copy(source: Path, target: Path, *, flush: bool) -> float:
    """Seconds to send `source` through a loopback connection into the new file `target`."""
    size = source.stat().st_size
    with socket.create_server(("127.0.0.1", 0)) as listener:
        received: list[BaseException] = []
        receiver = threading.Thread(target=_receive, args=(listener, target, size, flush, received))
        started = time.perf_counter()
        receiver.start()
        with socket.create_connection(listener.getsockname()) as sender:
            fd = os.open(source, os.O_RDONLY)
            try:
                sent = 0
                while sent < size:
                    sent += os.sendfile(sender.fileno(), fd, sent, min(SEND_PIECE, size - sent))
            finally:
                os.close(fd)
        receiver.join()
        elapsed = time.perf_counter() - started
    if received:
        raise received[0]
    return elapsed


def _receive(
    listener: socket.socket, target: Path, size: int, flush: bool, errors: list[BaseException]
) -> None:
    try:
        connection, _ = listener.accept()
        pipe_out, pipe_in = os.pipe()
        fcntl.fcntl(pipe_in, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            position = written_back = 0
            while position < size:
                moved = os.splice(connection.fileno(), pipe_in, min(PIPE_SIZE, size - position))
                if moved == 0:
                    raise ConnectionError("the sender stopped early")
                while moved:
                    stored = os.splice(pipe_out, fd, moved, offset_dst=position)
                    moved -= stored
                    position += stored
                if flush and position - written_back >= WRITEBACK_EVERY:
                    _sync_file_range(fd, written_back, position - written_back)
                    written_back = position
            if flush:
                os.fdatasync(fd)
        finally:
            os.close(fd)
            os.close(pipe_in)
            os.close(pipe_out)
            connection.close()
    except BaseException as error:  # handed to the caller's thread
        errors.append(error)


def _sync_file_range(fd: int, offset: int, length: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.sync_file_range(fd, ctypes.c_int64(offset), ctypes.c_int64(length), SYNC_FILE_RANGE_WRITE)
