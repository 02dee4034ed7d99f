"""Keeps the engine's bridges apart while the engine rewrites its own rules.

Docker Engine 20.10 keeps user-defined bridges apart with its DOCKER-ISOLATION chains, but
whenever any network is created it deletes FORWARD's jump to them and inserts it again at
the top. Between the two, the ACCEPT rule each bridge has for its outgoing traffic lets a
packet of one bridge into another: here 144 UDP datagrams of one job network reached a job
on another while ten networks were created and removed
(`tests/orchestrator/test_docker_network.py::test_networks_stay_apart_while_the_engine_adds_others`).

So the platform restates the engine's policy, no routing between two of its bridges, in a
chain of its own that the engine never rewrites, reached from DOCKER-USER, the chain the
engine keeps for its operator's rules and jumps to first. Packets bridged within one network
(the engine's `br_netfilter` shows those to iptables too) are not routed and pass. The
engine's host must be this one: the server runs as root in dockerd's namespaces anyway (bind
mounts for volumes need it).
"""

from __future__ import annotations

import asyncio

from .errors import ContainerCannotRunError

CHAIN = "NEURO-ISOLATION"
ENGINE_CHAIN = "DOCKER-USER"
# Routed (not bridged) between two user-defined bridges, or between one and docker0.
RULES = (
    "-i br-+ -o br-+ -m physdev ! --physdev-is-bridged -j DROP",
    "-i br-+ -o docker0 -j DROP",
    "-i docker0 -o br-+ -j DROP",
)


class BridgeIsolation:
    """Puts the chain in place: once per process, and again whenever asked to."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._in_place = False

    async def ensure(self, *, again: bool = False) -> None:
        """Raises ContainerCannotRunError when the rules cannot be put in place: a job is
        better not started than started without them."""
        async with self._lock:  # one process inserts the jump once
            if self._in_place and not again:
                return
            status, _ = await _run("iptables", "-w", "-C", ENGINE_CHAIN, "-j", CHAIN)
            # A chain's declaration empties it; its rules land in the same transaction, so
            # no packet meets it empty.
            lines = ["*filter", f":{CHAIN} - [0:0]", *(f"-A {CHAIN} {rule}" for rule in RULES)]
            if status != 0:  # no jump yet (or no chain: the restore below says which)
                lines.append(f"-I {ENGINE_CHAIN} 1 -j {CHAIN}")
            lines.append("COMMIT\n")
            status, error = await _run(
                "iptables-restore", "-w", "--noflush", stdin="\n".join(lines)
            )
            if status != 0:
                raise _cannot_isolate(f"iptables-restore: {error}")
            self._in_place = True


async def _run(program: str, *args: str, stdin: str = "") -> tuple[int, str]:
    """The program's exit status and what it said on stderr."""
    try:
        process = await asyncio.create_subprocess_exec(
            program,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as error:
        raise _cannot_isolate(f"{program}: {error.strerror}") from error
    _, stderr = await process.communicate(stdin.encode())
    assert process.returncode is not None  # communicate waits for the exit
    return process.returncode, stderr.decode(errors="replace").strip()


def _cannot_isolate(cause: str) -> ContainerCannotRunError:
    return ContainerCannotRunError(
        f"cannot keep job networks apart ({cause}): the server must run as root on the "
        f"engine's host, with iptables, and dockerd with its iptables management on"
    )
