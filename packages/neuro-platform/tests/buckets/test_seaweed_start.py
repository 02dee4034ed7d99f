"""The embedded SeaweedFS starts on ports it is given free, which another process may take
before `weed` binds them: a start that exits for that is tried again on other ports."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from neuro_platform.buckets import seaweed
from neuro_platform.buckets.seaweed import EmbeddedSeaweed, SeaweedFiles

pytestmark = pytest.mark.seaweedfs


async def test_a_start_on_a_port_taken_meanwhile_is_tried_again_on_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    picked: list[list[int]] = []
    free_ports = seaweed._free_ports

    def first_with_a_taken_port(count: int) -> list[int]:
        ports = free_ports(count)
        if not picked:  # the master's port, taken between the pick and `weed`'s bind
            ports[0] = taken.getsockname()[1]
        picked.append(ports)
        return ports

    monkeypatch.setattr(seaweed, "_free_ports", first_with_a_taken_port)
    store = EmbeddedSeaweed(SeaweedFiles(tmp_path / "buckets"), "weed", "127.0.0.1", 0)
    try:
        access = await store.access()
        assert store.started
        assert len(picked) == 2
        assert access.endpoint_url.port not in picked[0]
    finally:
        taken.close()
        if store.started:
            assert store._process is not None
            store._process.kill()  # a graceful stop takes ~20 s; nothing here is kept
            await store._process.wait()
