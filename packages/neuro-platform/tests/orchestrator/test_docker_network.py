"""Jobs reach each other by name through the cluster's hosts file; the platform reaches them
by IP address on the engine's default bridge."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import aiohttp
import pytest

from neuro_platform.jobs.hosts_file import HostsFile
from neuro_platform.orchestrator import BindMount, ContainerSpec, DockerOrchestrator
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
