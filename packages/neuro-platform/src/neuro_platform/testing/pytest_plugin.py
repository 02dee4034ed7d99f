"""Session-wide test setup, loaded for every package by `-p` in the root pyproject's addopts.

Tests interrupt CLI processes with SIGINT (Ctrl-C handling, ending `neuro port-forward`). A shell
that starts `make test` in the background makes SIGINT ignored, and an ignored signal stays
ignored in every child process, so those tests would wait forever. Installing Python's handler
here makes children start with the default disposition again.
"""

from __future__ import annotations

import signal

import pytest


def pytest_configure(config: pytest.Config) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
