"""Network slots on the shared filesystem, and the rules a job's node derives from them
(no cluster needed: the slots are files, the rules come from the batch script's own bash)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from neuro_platform.orchestrator.errors import OrchestratorError
from neuro_platform.orchestrator.slurm_networks import (
    SLOTS,
    SlurmNetworks,
    admit,
    release_instance_slots,
)
from neuro_platform.orchestrator.slurm_script import _NETWORK


def test_a_network_keeps_its_slot_and_no_two_instances_share_one(tmp_path: Path) -> None:
    first, second = SlurmNetworks(tmp_path, "one"), SlurmNetworks(tmp_path, "two")

    alice = first.ensure("default_alice")
    assert first.ensure("default_alice") == alice
    # Another process of the same instance finds it (the file, not its memory).
    assert SlurmNetworks(tmp_path, "one").slot("default_alice") == alice
    theirs = second.ensure("default_alice")
    assert theirs != alice
    assert first.list() == ["default_alice"]

    first.remove("default_alice")
    assert first.list() == []
    assert first.ensure("default_bob") == alice  # free again
    release_instance_slots(tmp_path, "two")
    assert SlurmNetworks(tmp_path, "two").slot("default_alice") is None


def test_a_slot_being_taken_by_another_process_is_not_taken_again(tmp_path: Path) -> None:
    (tmp_path / "networks").mkdir()
    (tmp_path / "networks" / "slot-1").touch()  # made, not yet written

    assert SlurmNetworks(tmp_path, "one").ensure("default_alice") == 2


def test_no_network_when_every_slot_is_taken(tmp_path: Path) -> None:
    networks = SlurmNetworks(tmp_path, "one")
    assert networks.ensure("default_user1") == 1
    # Every other slot taken by another platform process on the cluster (written as `ensure`
    # writes them: 253 calls of it read every slot file each, seconds of a test's time).
    for index in SLOTS[1:]:
        (tmp_path / "networks" / f"slot-{index}").write_text(f"two default_user{index}\n")

    with pytest.raises(OrchestratorError, match="network slots"):
        networks.ensure("default_one-too-many")
    assert networks.slot("default_user1") == 1


def test_admitting_and_revoking_rewrite_the_readers(tmp_path: Path) -> None:
    readers = tmp_path / "readers"
    admit(readers, 7, admitted=True)
    admit(readers, 3, admitted=True)
    admit(readers, 7, admitted=True)
    assert readers.read_text() == "3\n7\n"
    admit(readers, 7, admitted=False)
    admit(readers, 9, admitted=False)
    assert readers.read_text() == "3\n"


def test_the_node_admits_only_the_owners_and_readers_slots(tmp_path: Path) -> None:
    readers = tmp_path / "readers"
    # Hostile content (the file is the platform's, but a rule must never come from text).
    readers.write_text("3\n7 -j ACCEPT\n-s 0.0.0.0/0\n$(touch pwned)\n12\n")
    script = _NETWORK.replace("@SLOT@", "5").replace("@READERS@", str(readers))
    # podman and nsenter stand in: the sandbox's path, and the rules as iptables-restore
    # would read them.
    stubs = "podman() { [ $1 != inspect ] || echo /run/netns/x; }\nnsenter() { cat; }\n"
    env = {
        **os.environ,
        "NEURO_JOBS_NODE_NET": "10.221",
        "NEURO_JOBS_POOL": "10.220",
        "NEURO_JOBS_POOL_MASK": "255.252",
        "run": str(tmp_path),
        "name": "c",
    }
    rules = subprocess.run(
        ["bash", "-c", f"set -u\n{stubs}{script}\nfirewall"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert rules.splitlines() == [
        "*filter",
        ":INPUT ACCEPT [0:0]",
        "-A INPUT -i lo -j ACCEPT",
        "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
        "-A INPUT -s 10.220.5.0/255.252.255.0 -j ACCEPT",
        "-A INPUT -s 10.220.3.0/255.252.255.0 -j ACCEPT",
        "-A INPUT -s 10.220.7.0/255.252.255.0 -j ACCEPT",
        "-A INPUT -s 10.220.12.0/255.252.255.0 -j ACCEPT",
        "-A INPUT -s 10.220.0.0/255.252.0.0 -j REJECT --reject-with icmp-admin-prohibited",
        "COMMIT",
    ]
    assert not (tmp_path / "pwned").exists()


def test_a_node_that_cannot_isolate_jobs_runs_none(tmp_path: Path) -> None:
    script = _NETWORK.replace("@SLOT@", "5").replace("@READERS@", str(tmp_path / "readers"))
    stubs = 'podman() { echo "podman $*"; }\nfinish() { echo "finish $*"; exit 0; }\n'
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEURO_JOBS_")}
    ran = subprocess.run(
        ["bash", "-c", f"set -u\n{stubs}{script}\necho on the node's network"],
        env={**env, "run": str(tmp_path), "name": "c"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    # Not on the node's own network (as a job without a slot is): that reaches every job.
    assert ran == "finish 127 false ContainerCannotRun\n"
    assert "NEURO_JOBS_NODE_NET" in (tmp_path / "message").read_text()
