"""pytest fixtures; other packages import them into their conftest:

from neuro_platform.testing.fixtures import platform_server  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..orchestrator.testing import remove_instance_containers
from .server import PlatformServer, running_platform

USERS = {"alice": "alice-password", "bob": "bob-password"}


@pytest.fixture
def platform_server(tmp_path: Path) -> Iterator[PlatformServer]:
    """A fresh server with users alice/alice-password and bob/bob-password.

    Jobs outlive their server on purpose (a restarted platform re-adopts them), so the fixture
    removes the containers this server's tests left behind."""
    with running_platform(tmp_path, users=USERS) as server:
        try:
            yield server
        finally:
            remove_instance_containers(server.settings().orchestrator_instance)
