"""One server, two clusters: `onprem` on the local dockerd, `hpc` on the Slurm test cluster.
A job of each runs on its own cluster's engine, its output and outcome come back, and each
cluster's capacity counts only its own jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from yarl import URL

from neuro_platform.settings import SettingsError, SlurmSettings, load_settings
from neuro_platform.testing import PlatformServer

from ..jobs.client import JobsClient
from ..jobs.conftest import PRESETS, busybox_job
from .test_slurm_platform import PLATFORM_CONFIG, server_on_cluster

pytestmark = pytest.mark.slurm

GIB = 1024**3


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, slurm_settings: SlurmSettings, busybox_image: str
) -> Iterator[PlatformServer]:
    clusters = [
        {"name": "onprem", "presets": PRESETS, "engine": "docker", "node": {"cpu": 1.0}},
        {"name": "hpc", "presets": PRESETS, "engine": "slurm"},
    ]
    # The Docker side's containers are removed by the platform when their jobs end.
    config = {**PLATFORM_CONFIG, "clusters": clusters}
    yield from server_on_cluster(tmp_path_factory, "two-engines", slurm_settings, config)


@pytest.fixture
async def alice(server: PlatformServer) -> AsyncIterator[JobsClient]:
    async with JobsClient(server, "alice") as client:
        yield client


async def capacity(client: JobsClient, jobs_url: URL) -> dict[str, int]:
    async with client.session.get(jobs_url / "capacity") as response:
        assert response.status == 200, await response.text()
        answer: dict[str, int] = await response.json()
        return answer


async def test_each_cluster_runs_its_jobs_on_its_own_engine(alice: JobsClient) -> None:
    # The container's host name is the job id on Docker, the node's on Slurm
    # (slurm_script gives it): where each job ran is in its output.
    hpc = await alice.submit(busybox_job("echo on $(hostname)", cluster_name="hpc"))
    onprem = await alice.submit(busybox_job("echo on $(hostname)", cluster_name="onprem"))

    for job in (hpc, onprem):
        done = await alice.wait_for(job["id"], {"succeeded", "failed"})
        assert done["status"] == "succeeded", done["history"]

    assert await alice.logs(hpc["id"]) in (b"on node1\n", b"on node2\n")
    assert await alice.logs(onprem["id"]) == f"on {onprem['id']}\n".encode()


async def test_capacity_counts_each_clusters_own_node(alice: JobsClient) -> None:
    # `onprem` offers 1 CPU ([clusters.node]); `hpc` the [node] table's 4.
    held = await alice.submit(busybox_job("sleep 600", cluster_name="hpc", preset_name="small"))
    await alice.wait_for(held["id"], {"running"})
    try:
        onprem = await capacity(alice, alice.server.api_url / "jobs")  # the first cluster's
        hpc = await capacity(alice, alice.server.api_url / "clusters" / "hpc" / "jobs")
    finally:
        assert await alice.kill(held["id"]) == 204
    # A small job takes 0.5 CPU: 2 fit in onprem's 1 CPU, 8 in hpc's 4.
    assert onprem["small"] == 2  # the hpc job takes nothing here
    assert hpc["small"] == 7


@pytest.mark.parametrize(
    ("clusters", "slurm", "message"),
    [
        ('engine = "kubernetes"', True, r"clusters\[0\] engine must be one of: docker, slurm"),
        ('engine = "slurm"', False, r'clusters\[0\] engine "slurm" needs a \[slurm\] table'),
        ("node = { cpu = 2, disks = 3 }", False, r"clusters\[0\].node: unknown key\(s\) disks"),
        ("node = 4", False, r"clusters\[0\].node must be a table"),
    ],
)
def test_a_bad_engine_or_node_names_the_problem(
    tmp_path: Path, clusters: str, slurm: bool, message: str
) -> None:
    text = '[[clusters]]\nname = "a"\npresets = [{ name = "s", cpu = 1, memory = 67108864 }]\n'
    text += clusters + "\n"
    if slurm:
        text += '[slurm]\nrestd_socket = "/s"\ntoken_file = "/t"\nshared_dir = "/d"\n'
    path = tmp_path / "platform.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(path, env={})


def test_without_an_engine_a_slurm_table_still_means_slurm(tmp_path: Path) -> None:
    path = tmp_path / "platform.toml"
    path.write_text('[slurm]\nrestd_socket = "/s"\ntoken_file = "/t"\nshared_dir = "/d"\n')
    assert [c.engine for c in load_settings(path, env={}).clusters] == ["slurm"]
    path.write_text("")
    assert [c.engine for c in load_settings(path, env={}).clusters] == ["docker"]
