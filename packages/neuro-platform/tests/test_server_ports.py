"""The test servers' start: a port picked free and taken by another process before the
server binds it (CI saw it: the other process answered `/ping`, the fixture took it for
the platform, and the test talked to a stranger) gets the server a port of its own."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuro_platform.testing import server as server_module
from neuro_platform.testing.server import running_platform


class _Impostor(http.server.BaseHTTPRequestHandler):
    """Answers anything with 200 "Pong", as a platform's `/ping` would."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Pong")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def taken_port() -> Iterator[int]:
    impostor = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Impostor)
    thread = threading.Thread(target=impostor.serve_forever, daemon=True)
    thread.start()
    yield impostor.server_address[1]
    impostor.shutdown()
    impostor.server_close()


def test_a_port_taken_before_the_server_binds_it_is_not_mistaken_for_the_server(
    tmp_path: Path, taken_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    free_port = server_module._free_port
    picked = iter([taken_port])
    monkeypatch.setattr(server_module, "_free_port", lambda: next(picked, None) or free_port())

    with running_platform(tmp_path) as server:
        assert server.base_url.port != taken_port
        with urllib.request.urlopen(str(server.api_url / "config")) as response:
            config = json.load(response)  # the impostor answers "Pong" to everything

    assert config["authorized"] is False
    log = (tmp_path / "platform.log").read_text()
    # The first try, on the taken port, ended with the bind's failure.
    assert f"bind on address ('127.0.0.1', {taken_port})" in log
    assert "address already in use" in log
