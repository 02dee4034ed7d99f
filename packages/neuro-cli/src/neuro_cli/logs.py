"""Where a run's log records go: stderr by verbosity, plus a file in the config dir.

The file, its folder and the pruning of old files wait for the run's first record, so a
run that logs nothing leaves no file and touches none; in practice a file appears when a
command fails, holding the traceback that stderr only shows with ``-v``. Old files are
pruned so the directory does not grow forever.
"""

import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

LOGS_DIR_NAME = "logs"
LOG_FILE_PREFIX = "neuro-run-"
KEEP_LOGS_FOR = timedelta(days=3)
_LOGGERS = ("neuro_cli", "neuro_sdk")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def stderr_level(verbosity: int) -> int:
    if verbosity >= 2:
        return logging.DEBUG
    if verbosity == 1:
        return logging.INFO
    if verbosity == 0:
        return logging.WARNING
    return logging.ERROR


def setup_logging(verbosity: int, config_dir: Path) -> Callable[[], None]:
    """Attach this run's handlers; returns the function that detaches them again."""
    handlers: list[logging.Handler] = []
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setLevel(stderr_level(verbosity))
    to_stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handlers.append(to_stderr)
    # The config dir belongs to the SDK (created 0700 at login): only log into it when it
    # exists, so that a failing command never creates it on its own.
    if config_dir.is_dir():
        to_file = _RunLogFile(config_dir / LOGS_DIR_NAME)
        to_file.setLevel(logging.DEBUG)
        to_file.setFormatter(logging.Formatter(_FORMAT))
        handlers.append(to_file)
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        for handler in handlers:
            logger.addHandler(handler)

    def teardown() -> None:
        for logger in loggers:
            for handler in handlers:
                logger.removeHandler(handler)
        for handler in handlers:
            handler.close()

    return teardown


class _RunLogFile(logging.FileHandler):
    """This run's file in ``logs_dir``, made when the first record comes. Every run used to
    make the folder and list and stat every file in it (kept for three days: 22 ms of each
    command's start with 2,000 of them), whether it logged anything or not."""

    def __init__(self, logs_dir: Path) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d_%H-%M-%S")
        super().__init__(logs_dir / f"{LOG_FILE_PREFIX}{stamp}-{os.getpid()}.txt", delay=True)
        self._logs_dir = logs_dir

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is None:  # the first record: FileHandler opens the file next
            self._logs_dir.mkdir(mode=0o700, exist_ok=True)
            _prune_old_logs(self._logs_dir)
        super().emit(record)


def _prune_old_logs(logs_dir: Path) -> None:
    oldest_kept = time.time() - KEEP_LOGS_FOR.total_seconds()
    for path in logs_dir.glob(f"{LOG_FILE_PREFIX}*.txt"):
        try:
            if path.stat().st_mtime < oldest_kept:
                path.unlink()
        except OSError:
            pass  # another run pruned it first
