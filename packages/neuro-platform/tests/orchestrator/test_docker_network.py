"""Jobs reach each other by name through a hosts file and by address only on a network they
share; the platform reaches them by IP address on any of them."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath

import aiohttp
import pytest

from neuro_platform.jobs.hosts_file import HostsFile
from neuro_platform.orchestrator import (
    BindMount,
    ContainerCannotRunError,
    ContainerNotFoundError,
    ContainerSpec,
    DockerOrchestrator,
)
from neuro_platform.orchestrator.docker_firewall import CHAIN, ENGINE_CHAIN, RULES
from neuro_platform.orchestrator.testing import collect_logs

SpecFactory = Callable[..., ContainerSpec]

# Says "listening" only once the port is bound, so nobody has to retry.
SERVE = """
import http.server, pathlib
pathlib.Path("hello.txt").write_text("served\\n")
server = http.server.ThreadingHTTPServer(("", 8000), http.server.SimpleHTTPRequestHandler)
print("listening", flush=True)
server.serve_forever()
"""
# Waits for the name to appear, fetches from it, then waits for the name to go away.
FETCH_WHEN_NAMED = """
import socket, time, urllib.request
def resolves():
    try:
        socket.gethostbyname("web.jobs.internal")
        return True
    except OSError:
        return False
print("waiting", flush=True)
while not resolves():
    time.sleep(0.05)
print(urllib.request.urlopen("http://web.jobs.internal:8000/hello.txt").read().decode(), end="")
print("fetched", flush=True)
while resolves():
    time.sleep(0.05)
print("gone", flush=True)
"""


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[HostsFile]:
    hosts = HostsFile(tmp_path / "hosts")
    hosts.reset({})
    yield hosts
    hosts.close()


@pytest.fixture
def mount(hosts: HostsFile) -> BindMount:
    """The hosts file where a job container's C library looks for names."""
    return BindMount(hosts.path, PurePosixPath("/etc/hosts"), read_only=True)


async def _start_until(
    orchestrator: DockerOrchestrator, spec: ContainerSpec, line: bytes
) -> ContainerSpec:
    await orchestrator.start(spec)
    async for chunk in orchestrator.logs(spec.job_id, follow=True):
        if line in chunk:
            return spec
    raise AssertionError(f"{spec.job_id} ended: {await orchestrator.state(spec.job_id)}")


async def _wait_for_line(orchestrator: DockerOrchestrator, job_id: str, line: bytes) -> None:
    async with asyncio.timeout(30):  # a name that never resolves must fail, not hang
        async for chunk in orchestrator.logs(job_id, follow=True):
            if line in chunk:
                return
    raise AssertionError(f"{job_id} ended before {line!r}: {await orchestrator.state(job_id)}")


async def test_a_job_resolves_names_written_into_its_hosts_file_while_it_runs(
    orchestrator: DockerOrchestrator,
    make_spec: SpecFactory,
    debian_image: str,
    hosts: HostsFile,
    mount: BindMount,
) -> None:
    server = await _start_until(
        orchestrator,
        make_spec("python3", "-c", SERVE, working_dir="/srv", image=debian_image),
        b"listening",
    )
    address = await orchestrator.ip_address(server.job_id)
    assert address is not None
    client = await _start_until(
        orchestrator,
        make_spec("python3", "-c", FETCH_WHEN_NAMED, image=debian_image, bind_mounts=(mount,)),
        b"waiting",
    )

    hosts.add(server.job_id, address, ("web.jobs.internal",))
    await _wait_for_line(orchestrator, client.job_id, b"fetched")
    hosts.remove(server.job_id)
    await _wait_for_line(orchestrator, client.job_id, b"gone")
    final = await orchestrator.wait(client.job_id)

    assert final.exit_code == 0
    assert await collect_logs(orchestrator, client.job_id) == b"waiting\nserved\nfetched\ngone\n"


async def test_a_job_with_the_hosts_file_still_resolves_localhost(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory, debian_image: str, mount: BindMount
) -> None:
    spec = make_spec(
        "python3",
        "-c",
        'import socket; print(socket.gethostbyname("localhost"))',
        image=debian_image,
        bind_mounts=(mount,),
    )

    await orchestrator.start(spec)
    final = await orchestrator.wait(spec.job_id)

    assert final.exit_code == 0
    assert await collect_logs(orchestrator, spec.job_id) == b"127.0.0.1\n"


async def test_platform_reaches_a_job_at_its_ip_address(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory, debian_image: str
) -> None:
    server = await _start_until(
        orchestrator,
        make_spec("python3", "-c", SERVE, working_dir="/srv", image=debian_image),
        b"listening",
    )
    address = await orchestrator.ip_address(server.job_id)
    assert address is not None

    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{address}:8000/hello.txt") as response,
    ):
        body = await response.text()

    assert body == "served\n"


# Tries the address given as argv[1] once, with a deadline: a dropped packet never answers.
TRY_ONCE = """
import sys, urllib.request
try:
    answer = urllib.request.urlopen(f"http://{sys.argv[1]}:8000/hello.txt", timeout=3)
    print(answer.read().decode(), end="")
except OSError:
    print("unreachable", flush=True)
"""


@pytest.fixture
async def networks(orchestrator: DockerOrchestrator) -> AsyncIterator[tuple[str, str]]:
    names = (f"net-{uuid.uuid4().hex[:8]}", f"net-{uuid.uuid4().hex[:8]}")
    for name in names:
        await orchestrator.ensure_network(name, {})
    yield names
    for state in await orchestrator.list_managed():  # a network in use cannot go
        await orchestrator.remove(state.job_id)
    for name in names:
        assert await orchestrator.remove_network(name)


async def _try(orchestrator: DockerOrchestrator, spec: ContainerSpec, address: str) -> bytes:
    job = replace(spec, job_id=f"job-{uuid.uuid4()}", command=("python3", "-c", TRY_ONCE, address))
    await orchestrator.start(job)
    await orchestrator.wait(job.job_id)
    return await collect_logs(orchestrator, job.job_id)


async def test_jobs_on_different_networks_reach_each_other_only_once_joined(
    orchestrator: DockerOrchestrator,
    make_spec: SpecFactory,
    debian_image: str,
    networks: tuple[str, str],
) -> None:
    alices, bobs = networks
    server = await _start_until(
        orchestrator,
        make_spec("python3", "-c", SERVE, working_dir="/srv", image=debian_image, network=alices),
        b"listening",
    )
    own_address = (await orchestrator.state(server.job_id)).addresses[alices]
    client = make_spec(image=debian_image, network=bobs)
    neighbour = make_spec(image=debian_image, network=alices)

    # The engine's isolation chains drop traffic between two user-defined bridges.
    assert await _try(orchestrator, client, own_address) == b"unreachable\n"
    assert await _try(orchestrator, neighbour, own_address) == b"served\n"

    joined_address = await orchestrator.connect(server.job_id, bobs)
    assert joined_address is not None
    assert await _try(orchestrator, client, joined_address) == b"served\n"
    assert await _try(orchestrator, client, own_address) == b"unreachable\n"

    await orchestrator.disconnect(server.job_id, bobs)
    await orchestrator.disconnect(server.job_id, bobs)  # a second time: nothing to undo
    assert await _try(orchestrator, client, joined_address) == b"unreachable\n"
    assert bobs not in (await orchestrator.state(server.job_id)).addresses


async def test_a_network_in_use_is_not_removed(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory, networks: tuple[str, str]
) -> None:
    spec = make_spec("sleep", "300", network=networks[0])
    await orchestrator.start(spec)

    assert not await orchestrator.remove_network(networks[0])
    assert networks[0] in await orchestrator.list_networks()
    await orchestrator.ensure_network(networks[0], {})  # exists: no second one of that name


async def test_a_network_name_cannot_reach_another_engine_endpoint(
    orchestrator: DockerOrchestrator,
) -> None:
    with pytest.raises(ContainerCannotRunError, match="Invalid network name"):
        await orchestrator.ensure_network("../../containers/x", {})
    with pytest.raises(ValueError, match="Invalid network name"):
        await orchestrator.remove_network("x/../../y")


# Says "listening", then "from <sender>" for the first datagram of each sender.
COUNT_DATAGRAMS = """
import socket
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(("", 9000))
print("listening", flush=True)
seen = set()
while True:
    sender = server.recv(64).decode()
    if sender not in seen:
        seen.add(sender)
        print("from", sender, flush=True)
"""
# Sends its name to argv[1] every half millisecond until it is stopped.
SEND_DATAGRAMS = """
import socket, sys, time
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("sending", flush=True)
while True:
    try:
        client.sendto(sys.argv[2].encode(), (sys.argv[1], 9000))
    except OSError:  # an ICMP error of an earlier datagram: keep sending
        pass
    time.sleep(0.0005)
"""


async def test_networks_stay_apart_while_the_engine_adds_others(
    orchestrator: DockerOrchestrator,
    make_spec: SpecFactory,
    debian_image: str,
    networks: tuple[str, str],
) -> None:
    # Docker 20.10 drops and re-inserts its isolation jump whenever a network is created;
    # without the platform's own chain bob's datagrams got through in that gap (144 of them
    # in ten networks on this machine).
    alices, bobs = networks
    listener = await _start_until(
        orchestrator,
        make_spec("python3", "-c", COUNT_DATAGRAMS, image=debian_image, network=alices),
        b"listening",
    )
    address = (await orchestrator.state(listener.job_id)).addresses[alices]
    senders = []
    for name, network in (("bob", bobs), ("alice", alices)):
        sender = make_spec(
            "python3", "-c", SEND_DATAGRAMS, address, name, image=debian_image, network=network
        )
        senders.append(await _start_until(orchestrator, sender, b"sending"))

    for _ in range(10):
        other = f"net-{uuid.uuid4().hex[:8]}"
        await orchestrator.ensure_network(other, {})
        assert await orchestrator.remove_network(other)
    for job in (*senders, listener):
        await orchestrator.kill(job.job_id)

    # Alice's datagrams show the listener heard what reached it.
    assert await collect_logs(orchestrator, listener.job_id) == b"listening\nfrom alice\n"


def _iptables(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["iptables", *args], capture_output=True, text=True)


def _isolation_rules() -> tuple[list[str], list[str]]:
    """The engine's operator chain and the platform's, as `iptables -S` lists them."""
    return (
        _iptables("-S", ENGINE_CHAIN).stdout.splitlines(),
        _iptables("-S", CHAIN).stdout.splitlines(),
    )


def _remove_every_jump_to_the_chain() -> None:
    """What an operator's `iptables -F DOCKER-USER` does to it."""
    while _iptables("-D", ENGINE_CHAIN, "-j", CHAIN).returncode == 0:
        pass


async def test_an_isolation_chain_the_operator_removed_comes_back_with_the_next_network(
    orchestrator: DockerOrchestrator,
) -> None:
    first, second = (f"net-{uuid.uuid4().hex[:8]}" for _ in range(2))
    await orchestrator.ensure_network(first, {})  # the chain is in place from here on
    _remove_every_jump_to_the_chain()

    await orchestrator.ensure_network(second, {})
    await orchestrator.ensure_network(second, {})  # it exists: nothing to add twice
    for name in (first, second):
        assert await orchestrator.remove_network(name)

    engine_chain, own_chain = _isolation_rules()
    assert engine_chain.count(f"-A {ENGINE_CHAIN} -j {CHAIN}") == 1
    assert engine_chain.index(f"-A {ENGINE_CHAIN} -j {CHAIN}") == 1  # first, after -N
    assert own_chain == [f"-N {CHAIN}", *(f"-A {CHAIN} {rule}" for rule in RULES)]


async def test_without_iptables_no_job_starts(
    instance: str, make_spec: SpecFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a host without iptables
    spec = make_spec("true")
    async with DockerOrchestrator(instance=instance) as orchestrator:
        with pytest.raises(ContainerCannotRunError, match="cannot keep job networks apart"):
            await orchestrator.start(spec)
        with pytest.raises(ContainerNotFoundError):
            await orchestrator.state(spec.job_id)
