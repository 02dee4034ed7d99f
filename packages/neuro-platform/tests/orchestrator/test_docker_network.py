"""The cluster network: jobs reach each other by hostname, the platform reaches them by IP."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from neuro_platform.orchestrator import ContainerSpec, DockerOrchestrator
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
FETCH = 'import urllib.request; print(urllib.request.urlopen("{url}").read().decode(), end="")'


@pytest.fixture
async def network(orchestrator: DockerOrchestrator) -> AsyncIterator[str]:
    name = f"neuro-test-{uuid.uuid4().hex[:8]}"
    await orchestrator.ensure_network(name)
    await orchestrator.ensure_network(name)  # idempotent
    yield name
    for state in await orchestrator.list_managed():
        await orchestrator.remove(state.job_id)
    await orchestrator.remove_network(name)


async def _start_web_server(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory, **overrides: Any
) -> ContainerSpec:
    server = make_spec("python3", "-c", SERVE, working_dir="/srv", **overrides)
    await orchestrator.start(server)
    async for chunk in orchestrator.logs(server.job_id, follow=True):
        if b"listening" in chunk:
            return server
    raise AssertionError(f"the web server job ended: {await orchestrator.state(server.job_id)}")


async def test_jobs_reach_each_other_by_internal_hostname(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory, debian_image: str, network: str
) -> None:
    await _start_web_server(
        orchestrator,
        make_spec,
        image=debian_image,
        network=network,
        hostname="web",
        network_aliases=("web.jobs.internal",),
    )
    client = make_spec(
        "python3",
        "-c",
        FETCH.format(url="http://web.jobs.internal:8000/hello.txt"),
        image=debian_image,
        network=network,
    )

    await orchestrator.start(client)
    final = await orchestrator.wait(client.job_id)

    assert final.exit_code == 0
    assert await collect_logs(orchestrator, client.job_id) == b"served\n"


async def test_platform_reaches_a_job_at_its_ip_address(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory, debian_image: str, network: str
) -> None:
    server = await _start_web_server(orchestrator, make_spec, image=debian_image, network=network)
    address = await orchestrator.ip_address(server.job_id)
    assert address is not None

    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{address}:8000/hello.txt") as response,
    ):
        body = await response.text()

    assert body == "served\n"
