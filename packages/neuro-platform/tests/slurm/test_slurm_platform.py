"""The whole platform on the Slurm orchestrator: jobs submitted through the API run on the
two-node cluster, their output and outcome come back, and a kill ends them."""

from __future__ import annotations

import asyncio
import random
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from neuro_platform.orchestrator import SlurmOrchestrator
from neuro_platform.orchestrator.testing import DEBIAN_IMAGE
from neuro_platform.settings import SlurmSettings
from neuro_platform.testing import PlatformServer, running_platform, slurm
from neuro_platform.testing.fixtures import USERS

from ..jobs.client import JobsClient
from ..jobs.conftest import PRESETS, busybox_job
from ..jobs.test_job_networks import output_until, revoke, share
from .conftest import cancel_instance_jobs

pytestmark = pytest.mark.slurm

# A node's two CPUs: two such jobs never share a node.
WHOLE_NODE = {"name": "node", "cpu": 2.0, "memory": 256 * 1024**2}
# Serves its node's name on PORT (argv[1]), and says so.
SERVE_NODE = (
    "import http.server, os, socket, sys; os.makedirs('/srv', exist_ok=True); "
    "open('/srv/node', 'w').write(socket.gethostname()); os.chdir('/srv'); "
    "s = http.server.HTTPServer(('', int(sys.argv[1])), http.server.SimpleHTTPRequestHandler); "
    "print('listening', flush=True); s.serve_forever()"
)
# Prints what each URL in argv answers, or the error, and then its own node's name.
FETCH = (
    "import socket, sys, urllib.request\n"
    "for url in sys.argv[1:]:\n"
    "    try: print(urllib.request.urlopen(url, timeout=10).read().decode())\n"
    '    except OSError as error: print("error", type(error).__name__)\n'
    'print("me", socket.gethostname())'
)

# What bob's job sees of alice's web job on port PORT, in phases the test moves it through.
PROBE = """
import os, socket, time, urllib.request
NAME, ADDRESS, PORT = os.environ["NAME"], os.environ["ADDRESS"], os.environ["PORT"]

def fetch(host):
    try:
        return urllib.request.urlopen(f"http://{host}:{PORT}/node", timeout=10).read().decode()
    except OSError:
        return "unreachable"

def resolve():
    try:
        return socket.gethostbyname(NAME)
    except OSError:
        return None

print("alone:", resolve(), fetch(ADDRESS), ADDRESS in open("/etc/hosts").read(), flush=True)
while (address := resolve()) is None:
    time.sleep(0.1)
for _ in range(100):  # named a moment before its node admits bob's jobs
    if (answer := fetch(NAME)) != "unreachable":
        break
    time.sleep(0.1)
print("shared:", answer, flush=True)
while resolve() is not None:
    time.sleep(0.1)
for _ in range(100):  # unnamed a moment before its node stops admitting them
    if (answer := fetch(ADDRESS)) == "unreachable":
        break
    time.sleep(0.1)
print("revoked:", fetch(address), answer, flush=True)
"""
PROBE_COMMAND = """python3 -c 'import os; exec(os.environ["SCRIPT"])'"""


# Quick polling and a whole-node preset for the platform tests on the cluster.
PLATFORM_CONFIG: dict[str, Any] = {
    "jobs": {"poll_interval_s": 0.2},
    "clusters": [{"name": "default", "presets": [*PRESETS, WHOLE_NODE]}],
}


def slurm_config(instance: str, settings: SlurmSettings) -> dict[str, Any]:
    return slurm.slurm_config(instance, settings, PLATFORM_CONFIG)


def server_on_cluster(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    settings: SlurmSettings,
    config: Mapping[str, Any] = PLATFORM_CONFIG,
) -> Iterator[PlatformServer]:
    """A module's server on the cluster with the test users: `yield from` it in a fixture."""
    with slurm.running_slurm_platform(
        tmp_path_factory.mktemp(name), slurm.new_instance(), settings, config=config, users=USERS
    ) as server:
        yield server


@pytest.fixture(scope="module")
def slurm_server(
    tmp_path_factory: pytest.TempPathFactory, slurm_settings: SlurmSettings, busybox_image: str
) -> Iterator[PlatformServer]:
    yield from server_on_cluster(tmp_path_factory, "slurm-platform", slurm_settings)


@pytest.fixture
async def alice(slurm_server: PlatformServer) -> AsyncIterator[JobsClient]:
    async with JobsClient(slurm_server, "alice") as client:
        yield client


async def test_a_job_runs_on_a_slurm_node_with_its_output(alice: JobsClient) -> None:
    job = await alice.submit(busybox_job("echo hello from $(hostname); exit 0"))

    done = await alice.wait_for(job["id"], {"succeeded"})

    assert done["history"]["exit_code"] == 0
    logs = await alice.logs(job["id"])
    assert logs in (b"hello from node1\n", b"hello from node2\n")


async def test_a_failing_job_fails_with_its_exit_code(alice: JobsClient) -> None:
    job = await alice.submit(busybox_job("echo bad >&2; exit 7"))
    done = await alice.wait_for(job["id"], {"failed"})
    assert done["history"]["exit_code"] == 7
    assert await alice.logs(job["id"]) == b"bad\n"


async def test_a_killed_job_is_cancelled_and_its_slurm_job_ends(
    alice: JobsClient, slurm_settings: SlurmSettings
) -> None:
    job = await alice.submit(busybox_job("echo started; sleep 600"))
    await alice.wait_for(job["id"], {"running"})
    assert await alice.kill(job["id"]) == 204
    done = await alice.wait_for(job["id"], {"cancelled"})
    assert done["status"] == "cancelled"
    await alice.wait_until_collected(job["id"])
    # Nothing of the job is left on the shared filesystem once it is collected.
    jobs_dir = slurm_settings.shared_dir / "jobs"
    leftovers = await asyncio.to_thread(lambda: list(jobs_dir.glob(f"*/{job['id']}")))
    assert leftovers == []


async def test_a_restarted_platform_adopts_its_slurm_jobs(
    tmp_path: Path, slurm_settings: SlurmSettings, busybox_image: str
) -> None:
    instance = f"test-{uuid.uuid4().hex[:12]}"
    config = slurm_config(instance, slurm_settings)
    try:
        with running_platform(tmp_path, config=config, users=USERS) as server:
            async with JobsClient(server, "alice") as alice:
                survivor = await alice.submit(busybox_job("echo before; sleep 300"))
                ender = await alice.submit(busybox_job("echo bye; sleep 2; exit 4"))
                await alice.wait_for(survivor["id"], ["running"])
                await alice.wait_for(ender["id"], ["running"])
        # The platform is down while `ender` exits (its Slurm job ends without it).
        async with SlurmOrchestrator(instance=instance, settings=slurm_settings) as slurm:
            assert (await slurm.wait(ender["id"])).exit_code == 4
        with running_platform(tmp_path, config=config) as server:
            async with JobsClient(server, "alice") as alice:
                ended = await alice.wait_for(ender["id"], ["failed"])
                assert ended["history"]["exit_code"] == 4
                assert await alice.logs(ender["id"]) == b"bye\n"
                assert (await alice.get(survivor["id"]))["status"] == "running"
                assert await alice.kill(survivor["id"]) == 204
                await alice.wait_for(survivor["id"], ["cancelled"])
                assert await alice.logs(survivor["id"]) == b"before\n"
    finally:
        cancel_instance_jobs(instance)
        shutil.rmtree(slurm_settings.shared_dir / "jobs" / instance, ignore_errors=True)


async def test_port_forward_reaches_a_job_on_its_node(alice: JobsClient) -> None:
    port = random.randint(20000, 30000)
    serve = f"mkdir /w; echo hello from the node > /w/index.html; httpd -f -p {port} -h /w"
    job = await alice.submit(busybox_job(serve))
    await alice.wait_for(job["id"], {"running"})
    url = alice.jobs_url / job["id"] / "port_forward" / str(port)

    async def fetch() -> bytes:
        async with alice.session.ws_connect(url) as ws:
            await ws.send_bytes(b"GET /index.html HTTP/1.0\r\nHost: job\r\n\r\n")
            return b"".join([m.data async for m in ws])

    while True:  # httpd may not listen yet: the handshake answers 400 until it does
        try:
            answer = await fetch()
            break
        except aiohttp.WSServerHandshakeError as error:
            if error.status != 400:
                raise
            await asyncio.sleep(0.2)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.")
    assert b" 200 " in head
    assert body == b"hello from the node\n"
    assert await alice.kill(job["id"]) == 204


async def test_a_job_reaches_none_of_the_nodes_services(alice: JobsClient) -> None:
    debian = (await asyncio.to_thread(slurm.cluster_for_tests), DEBIAN_IMAGE)[1]
    # slurmd on each node (SlurmdPort of scripts/slurm-cluster.sh), its own node's too.
    targets = [("10.219.0.11", 6918), ("10.219.0.12", 6918)]
    connect = (
        "import socket, sys\n"
        "for host, port in zip(sys.argv[1::2], sys.argv[2::2]):\n"
        "    try: socket.create_connection((host, int(port)), timeout=3); print('open')\n"
        "    except OSError: print('closed')\n"
    )
    arguments = " ".join(f"{host} {port}" for host, port in targets)
    job = await alice.submit(
        {"image": debian, "command": f'python3 -c "{connect}" {arguments}'}
        | {"preset_name": "half"}
    )
    await alice.wait_for(job["id"], ["succeeded"])
    assert (await alice.logs(job["id"])).decode().splitlines() == ["closed", "closed"]


@pytest.mark.timeout(300)  # whole-node jobs wait for the other tests' jobs on the cluster
async def test_jobs_on_two_nodes_reach_each_other_by_internal_host_names_and_no_one_elses(
    slurm_server: PlatformServer, alice: JobsClient, slurm_settings: SlurmSettings
) -> None:
    debian = (await asyncio.to_thread(slurm.cluster_for_tests), DEBIAN_IMAGE)[1]
    port = random.randint(20000, 30000)  # on a node's own network a fixed one could clash
    web = await alice.submit(
        {"image": debian, "command": f'python3 -c "{SERVE_NODE}" {port}', "preset_name": "node"}
        | {"name": "web"}
    )
    await alice.wait_for(web["id"], ["running"])
    async with alice.session.get(alice.jobs_url / web["id"] / "log") as response:
        assert await response.content.readline() == b"listening\n"
    urls = [
        f"http://{web[name]}:{port}/node"
        for name in ("internal_hostname", "internal_hostname_named")
    ]
    fetch = {"image": debian, "command": f"python3 -c '{FETCH}' {' '.join(urls)}"}

    # Takes the other node: bob's probe then runs there too, a node away from `web`.
    fetcher = await alice.submit(fetch | {"preset_name": "node"})
    await alice.wait_for(fetcher["id"], ["succeeded"])
    web_node, again, me = (await alice.logs(fetcher["id"])).decode().splitlines()
    assert web_node == again
    assert web_node in ("node1", "node2")
    assert me == f"me {({'node1', 'node2'} - {web_node}).pop()}"

    instance = slurm_server.settings().orchestrator_instance
    async with SlurmOrchestrator(instance=instance, settings=slurm_settings) as orchestrator:
        address = await orchestrator.ip_address(web["id"])
    assert address is not None
    env = {"NAME": web["internal_hostname_named"], "ADDRESS": address, "PORT": str(port)}
    async with JobsClient(slurm_server, "bob") as bob:
        probe = await bob.submit(
            {"image": debian, "command": PROBE_COMMAND, "preset_name": "half"}
            | {"env": {**env, "SCRIPT": PROBE}}
        )
        # Bob's job neither resolves alice's job nor connects to its address.
        [alone] = await output_until(bob, probe["id"], "alone:")
        assert alone == "alone: None unreachable False"

        await share(alice, "bob", web["uri"])
        lines = await output_until(bob, probe["id"], "shared:")
        assert lines[-1] == f"shared: {web_node}"

        await revoke(alice, "bob", web["uri"])
        lines = await output_until(bob, probe["id"], "revoked:")
        assert lines[-1] == "revoked: unreachable unreachable"
    assert await alice.kill(web["id"]) == 204
