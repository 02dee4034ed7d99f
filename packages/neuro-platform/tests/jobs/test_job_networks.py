"""A job reaches, by name and by address, only the jobs its owner may read; and it reaches the
API at the address `pass_config` gives it, not at the server's loopback one."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from neuro_platform.orchestrator.naming import container_name
from neuro_platform.orchestrator.testing import build_base_image
from neuro_platform.testing import PlatformServer
from neuro_platform.testing.fixtures import USERS
from neuro_platform.testing.server import running_jobs_platform

from .client import JobsClient

MIB = 1024**2
CONFIG = {
    "jobs": {"poll_interval_s": 0.2},
    "node": {"cpu": 4.0, "memory": 2048 * MIB, "gpu": 0},
    "clusters": [
        {"name": "default", "presets": [{"name": "tiny", "cpu": 0.1, "memory": 128 * MIB}]}
    ],
}

SERVE = """
import http.server, os, pathlib
os.chdir("/srv")
pathlib.Path("hello.txt").write_text("served\\n")
server = http.server.ThreadingHTTPServer(("", 8000), http.server.SimpleHTTPRequestHandler)
print("listening", flush=True)
server.serve_forever()
"""
# What bob's job sees of alice's web job, in phases the test moves it through.
PROBE = """
import os, socket, sys, time, urllib.request
NAME, OWN_ADDRESS = os.environ["NAME"], os.environ["ADDRESS"]

def fetch(host):
    try:
        answer = urllib.request.urlopen(f"http://{host}:8000/hello.txt", timeout=3)
        return answer.read().decode().strip()
    except OSError:
        return "unreachable"

def resolve():
    try:
        return socket.gethostbyname(NAME)
    except OSError:
        return None

hosts = open("/etc/hosts").read()
print("alone:", resolve(), fetch(OWN_ADDRESS), OWN_ADDRESS in hosts, "alice" in hosts, flush=True)
while (address := resolve()) is None:
    time.sleep(0.1)
for _ in range(100):  # a job that was just named may not listen yet
    if (answer := fetch(NAME)) == "served":
        break
    time.sleep(0.1)
print("shared:", answer, flush=True)
while resolve() is not None:
    time.sleep(0.1)
print("revoked:", fetch(address), fetch(OWN_ADDRESS), flush=True)
"""
ASK_API = """
import base64, json, os, socket, urllib.request
config = json.loads(base64.b64decode(os.environ["NEURO_PASSED_CONFIG"]))
headers = {"Authorization": "Bearer " + config["token"]}

def get(url):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.status, json.load(r)
    except OSError as error:
        return "unreachable", None

status, body = get(config["url"] + "/config")
storage = body["clusters"][0]["storage_url"] if body else None
print("config:", status, body and body["authorized"], storage, flush=True)
status, body = get(config["url"] + "/jobs")
print("ps:", status, [job["id"] for job in body["jobs"]] == [socket.gethostname()], flush=True)
print("loopback:", get(os.environ["LOOPBACK_API"] + "/config")[0], flush=True)
"""


def python_job(script: str, **fields: Any) -> dict[str, Any]:
    return {
        "image": "neuro-base/debian:bookworm",
        "command": """python3 -c 'import os; exec(os.environ["SCRIPT"])'""",
        "preset_name": "tiny",
        **fields,
        "env": {"SCRIPT": script, **fields.get("env", {})},
    }


@pytest.fixture(scope="module")
def debian_image() -> str:
    return build_base_image("debian")


@pytest.fixture
def server(tmp_path: Path, debian_image: str) -> Iterator[PlatformServer]:
    instance = f"test-{uuid.uuid4().hex[:12]}"
    with running_jobs_platform(tmp_path, instance, config=CONFIG, users=USERS) as server:
        yield server


@pytest.fixture
async def alice(server: PlatformServer) -> AsyncIterator[JobsClient]:
    async with JobsClient(server, "alice") as client:
        yield client


@pytest.fixture
async def bob(server: PlatformServer) -> AsyncIterator[JobsClient]:
    async with JobsClient(server, "bob") as client:
        yield client


async def output_until(client: JobsClient, job_id: str, marker: str) -> list[str]:
    """The job's lines up to the first that starts with `marker` (it runs meanwhile)."""
    text = ""
    async with client.session.ws_connect(client.jobs_url / job_id / "log_ws") as ws:
        async for message in ws:
            assert isinstance(message.data, bytes), message
            text += message.data.decode()
            lines: list[str] = text.splitlines()
            if any(line.startswith(marker) for line in lines):
                return lines
    raise AssertionError(f"{job_id} ended without {marker!r}: {text!r}")


def addresses(server: PlatformServer, job_id: str) -> list[str]:
    """The job container's addresses on all its networks, as the engine reports them."""
    name = container_name(server.settings().orchestrator_instance, job_id)
    template = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
    found = subprocess.run(
        ["docker", "inspect", "-f", template, name], capture_output=True, text=True, check=True
    )
    return found.stdout.split()


async def share(owner: JobsClient, receiver: str, uri: str) -> None:
    url = owner.server.api_url / "users" / receiver / "permissions"
    async with owner.session.post(url, json=[{"uri": uri, "action": "read"}]) as response:
        assert response.status == 201, await response.text()


async def revoke(owner: JobsClient, receiver: str, uri: str) -> None:
    url = owner.server.api_url / "users" / receiver / "permissions" % {"uri": uri}
    async with owner.session.delete(url) as response:
        assert response.status == 204, await response.text()


async def test_a_job_reaches_another_users_job_only_while_it_is_shared(
    alice: JobsClient, bob: JobsClient
) -> None:
    web = await alice.submit(python_job(SERVE, name="web"))
    await output_until(alice, web["id"], "listening")
    [address] = addresses(alice.server, web["id"])
    name = web["internal_hostname_named"]

    # Alice's own jobs reach it by name.
    neighbour = await alice.submit(python_job(PROBE, env={"NAME": name, "ADDRESS": address}))
    assert (await output_until(alice, neighbour["id"], "shared:"))[-1] == "shared: served"

    probe = await bob.submit(python_job(PROBE, env={"NAME": name, "ADDRESS": address}))
    [alone] = await output_until(bob, probe["id"], "alone:")
    # Bob's job neither resolves alice's job nor reaches its address; his hosts file names
    # none of her jobs.
    assert alone == "alone: None unreachable False False"

    await share(alice, "bob", web["uri"])
    assert (await output_until(bob, probe["id"], "shared:"))[-1] == "shared: served"
    assert len(addresses(alice.server, web["id"])) == 2  # it joined bob's network

    await revoke(alice, "bob", web["uri"])
    lines = await output_until(bob, probe["id"], "revoked:")
    assert lines[-1] == "revoked: unreachable unreachable"
    assert addresses(alice.server, web["id"]) == [address]


async def test_a_job_started_later_joins_the_networks_of_users_who_may_read_it(
    alice: JobsClient, bob: JobsClient
) -> None:
    # Bob may read every job of alice's before she starts any.
    await share(alice, "bob", "job://default/alice")
    probe = await bob.submit(
        python_job(PROBE, env={"NAME": "web--alice.jobs.internal", "ADDRESS": "192.0.2.1"})
    )
    await output_until(bob, probe["id"], "alone:")

    web = await alice.submit(python_job(SERVE, name="web"))

    assert (await output_until(bob, probe["id"], "shared:"))[-1] == "shared: served"
    # Alice may not read bob's jobs: his never join her network.
    assert len(addresses(bob.server, probe["id"])) == 1
    await alice.kill(web["id"])


async def test_pass_config_gives_an_api_address_the_job_reaches(
    server: PlatformServer, alice: JobsClient
) -> None:
    # A urllib GET of `jobs` with the passed token is what `neuro ps` sends (the CLI itself
    # runs in a job in test_cli_in_job.py).
    job = await alice.submit(
        python_job(ASK_API, pass_config=True, env={"LOOPBACK_API": str(server.api_url)})
    )
    lines = await output_until(alice, job["id"], "loopback:")

    [config, ps, loopback] = lines
    words = config.split()
    assert words[:3] == ["config:", "200", "True"]
    storage = URL(words[3])
    assert storage.host not in ("127.0.0.1", "localhost")  # the job's SDK could use it
    assert storage.path == "/api/v1/storage"
    assert ps == "ps: 200 True"
    # The server's own address is the job's loopback: nothing of the platform's is there.
    assert loopback == "loopback: unreachable"


# Serves one request with a word of this run, then exits (and is restarted).
SERVE_ONCE = """
import http.server, os, pathlib, uuid
os.chdir("/srv")
pathlib.Path("hello.txt").write_text(uuid.uuid4().hex + "\\n")
server = http.server.HTTPServer(("", 8000), http.server.SimpleHTTPRequestHandler)
server.handle_request()
"""
# Fetches by name until two different runs of the server have answered.
TWO_RUNS = """
import os, time, urllib.request
seen = set()
while len(seen) < 2:
    try:
        url = "http://" + os.environ["NAME"] + ":8000/hello.txt"
        seen.add(urllib.request.urlopen(url, timeout=3).read())
    except OSError:
        time.sleep(0.1)
print("two runs", flush=True)
"""


async def test_a_restarted_shared_job_is_reached_again(alice: JobsClient, bob: JobsClient) -> None:
    await share(alice, "bob", "job://default/alice")
    web = await alice.submit(python_job(SERVE_ONCE, name="web", restart_policy="always"))
    probe = await bob.submit(python_job(TWO_RUNS, env={"NAME": web["internal_hostname_named"]}))

    async with asyncio.timeout(120):  # a stale name or network would keep it waiting
        assert await output_until(bob, probe["id"], "two runs") == ["two runs"]
    assert (await alice.get(web["id"]))["history"]["restarts"] >= 1
    await alice.kill(web["id"])
