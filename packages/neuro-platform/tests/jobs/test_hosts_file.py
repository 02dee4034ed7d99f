"""The cluster's hosts file: fixed-width lines rewritten in place, slots reused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from neuro_platform.jobs.hosts_file import SLOT_BYTES, HostsFile


def entries(path: Path) -> dict[str, list[str]]:
    """Address -> names, read the way a C library reads /etc/hosts."""
    parsed: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        address, *names = line.split("#", 1)[0].split() or [""]
        if address:
            parsed[address] = names
    return parsed


@pytest.fixture
def hosts(tmp_path: Path) -> HostsFile:
    hosts = HostsFile(tmp_path / "job-hosts" / "default")
    hosts.reset({})
    return hosts


def test_a_fresh_file_names_only_localhost(hosts: HostsFile) -> None:
    assert entries(hosts.path) == {
        "127.0.0.1": ["localhost"],
        "::1": ["localhost", "ip6-localhost", "ip6-loopback"],
    }
    assert os.stat(hosts.path).st_mode & 0o777 == 0o644


def test_lines_are_added_replaced_removed_and_their_slots_reused(hosts: HostsFile) -> None:
    hosts.add("job-a", "172.17.0.2", ("job-a.jobs.internal", "job-a"))
    hosts.add("job-b", "172.17.0.3", ("job-b.jobs.internal", "web--alice.jobs.internal"))
    hosts.add("job-a", "172.17.0.4", ("job-a.jobs.internal", "job-a"))  # restarted
    size = hosts.path.stat().st_size
    hosts.remove("job-a")
    hosts.add("job-c", "172.17.0.5", ("job-c.jobs.internal",))

    found = entries(hosts.path)
    assert found["172.17.0.3"] == ["job-b.jobs.internal", "web--alice.jobs.internal"]
    assert found["172.17.0.5"] == ["job-c.jobs.internal"]
    assert "172.17.0.2" not in found
    assert "172.17.0.4" not in found
    assert hosts.path.stat().st_size == size  # job-c took job-a's line
    assert all(len(line) == SLOT_BYTES for line in hosts.path.read_bytes().splitlines(True))


def test_reset_rewrites_the_same_file(hosts: HostsFile) -> None:
    # A bind mount pins the inode: running jobs only see changes made to this very file.
    inode = hosts.path.stat().st_ino
    hosts.add("job-gone", "172.17.0.9", ("job-gone.jobs.internal",))

    hosts.reset({"job-a": ("172.17.0.2", ("job-a.jobs.internal",))})

    assert hosts.path.stat().st_ino == inode
    found = entries(hosts.path)
    assert found["172.17.0.2"] == ["job-a.jobs.internal"]
    assert "172.17.0.9" not in found
    hosts.remove("job-a")
    assert "172.17.0.2" not in entries(hosts.path)


@pytest.mark.parametrize("name", ["evil\n1.2.3.4 bank.example", "a b", "#x", ""])
def test_a_name_that_could_break_the_file_writes_nothing(hosts: HostsFile, name: str) -> None:
    before = hosts.path.read_bytes()

    hosts.add("job-a", "172.17.0.2", ("job-a.jobs.internal", name))

    assert hosts.path.read_bytes() == before


def test_names_that_do_not_fit_a_line_are_left_out(hosts: HostsFile) -> None:
    long_name = "x" * 230 + ".jobs.internal"

    hosts.add("job-a", "172.17.0.2", ("job-a.jobs.internal", long_name, "job-a"))

    assert entries(hosts.path)["172.17.0.2"] == ["job-a.jobs.internal", "job-a"]
