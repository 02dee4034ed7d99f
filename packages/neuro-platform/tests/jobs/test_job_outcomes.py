"""What a user sees through the platform when a job runs out of memory, talks to another job by
its internal host names, or keeps running while the platform restarts."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from neuro_platform.orchestrator.testing import build_base_image

from .client import JobsClient
from .conftest import ServerFactory, busybox_job, wait_for_container

# A web server job: answers /hello.txt with "served" once it says it is listening.
SERVE = (
    "import http.server, os, sys; os.makedirs('/srv', exist_ok=True); "
    "open('/srv/hello.txt', 'w').write('served\\n'); os.chdir('/srv'); "
    "s = http.server.HTTPServer(('', 8000), http.server.SimpleHTTPRequestHandler); "
    "print('listening', flush=True); s.serve_forever()"
)
# Fetches each URL in argv and prints the bodies.
FETCH = (
    "import sys, urllib.request; "
    "[print(urllib.request.urlopen(url, timeout=10).read().decode().strip(), flush=True) "
    "for url in sys.argv[1:]]"
)


@pytest.fixture(scope="session")
def debian_image() -> str:
    return build_base_image("debian")


@pytest.mark.both_orchestrators
async def test_a_job_over_its_memory_is_oom_killed(alice: JobsClient) -> None:
    # dd wants a 128 MiB buffer; the `small` preset gives the job 64 MiB and no swap.
    job = await alice.submit(busybox_job("dd if=/dev/zero of=/dev/null bs=128M count=1"))

    failed = await alice.wait_for(job["id"], ["failed"])

    assert failed["history"]["reason"] == "OOMKilled"
    assert failed["history"]["exit_code"] == 137
    assert failed["statuses"][-1]["reason"] == "OOMKilled"


@pytest.mark.both_orchestrators
async def test_a_second_job_reaches_the_first_by_its_internal_host_names(
    alice: JobsClient, debian_image: str
) -> None:
    web = await alice.submit(
        {
            "image": debian_image,
            "command": f'python3 -c "{SERVE}"',
            "preset_name": "small",
            "name": "web",
        }
    )
    await alice.wait_for(web["id"], ["running"])
    async with alice.session.get(alice.jobs_url / web["id"] / "log") as response:
        assert await response.content.readline() == b"listening\n"
    urls = [
        f"http://{web['internal_hostname']}:8000/hello.txt",
        f"http://{web['internal_hostname_named']}:8000/hello.txt",
    ]

    fetcher = await alice.submit(
        {
            "image": debian_image,
            "command": f'python3 -c "{FETCH}" {" ".join(urls)}',
            "preset_name": "small",
        }
    )

    done = await alice.wait_for(fetcher["id"], ["succeeded"])
    assert done["history"]["exit_code"] == 0
    assert await alice.logs(fetcher["id"]) == b"served\nserved\n"
    await alice.kill(web["id"])


async def test_a_job_resolves_its_own_host_name_from_its_first_moment(
    alice: JobsClient, debian_image: str
) -> None:
    # The engine gives a job its address only once its process runs: a lookup in that first
    # moment must still find the job's own name (it missed one start in five before).
    jobs = [
        await alice.submit(
            {
                "image": debian_image,
                "command": "sh -c 'getent hosts $(hostname) || echo missing'",
                "preset_name": "small",
            }
        )
        for _ in range(5)
    ]

    for job in jobs:
        await alice.wait_for(job["id"], ["succeeded"])
        address, *names = (await alice.logs(job["id"])).decode().split()
        assert address != "missing"
        assert job["id"] in names


async def test_a_job_keeps_its_complete_output_across_a_platform_restart(
    make_server: ServerFactory, busybox_image: str, tmp_path: Path
) -> None:
    instance = f"test-{uuid.uuid4().hex[:12]}"
    directory = tmp_path / "platform"
    directory.mkdir()
    # One line before the platform stops, one while it is down, one after it is back.
    command = "echo before; sleep 3; echo during; sleep 5; echo after"
    with make_server(instance=instance, tmp_path=directory) as server:
        async with JobsClient(server, "alice") as alice:
            job = await alice.submit(busybox_job(command))
            await alice.wait_for(job["id"], ["running"])
            async with alice.session.get(alice.jobs_url / job["id"] / "log") as response:
                assert await response.content.readline() == b"before\n"
    # `during` is written while no platform runs.
    await wait_for_container(instance, job["id"], lambda answer: "during" in answer.stdout, "logs")
    with make_server(instance=instance, tmp_path=directory, restart=True) as server:
        async with JobsClient(server, "alice") as alice:
            done = await alice.wait_for(job["id"], ["succeeded"])
            assert done["history"]["restarts"] == 0
            await alice.wait_until_collected(job["id"])
            assert await alice.logs(job["id"]) == b"before\nduring\nafter\n"
