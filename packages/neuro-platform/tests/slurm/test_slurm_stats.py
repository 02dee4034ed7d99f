"""`neuro top` on Slurm: podman's two samples become a usage figure (no cluster), and on the
cluster a running job's container is sampled through a step on its node."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from neuro_platform.orchestrator import ContainerSpec, ContainerStats, SlurmOrchestrator
from neuro_platform.orchestrator.slurm_stats import parse_samples, stats_script

SECOND = 10**9


def test_cpu_is_the_rate_between_the_two_samples_and_memory_the_second() -> None:
    output = f"{3 * SECOND} {100 * SECOND} 1000\n{3 * SECOND + SECOND // 2} {101 * SECOND} 2048\n"

    assert parse_samples(output) == ContainerStats(cpu=0.5, memory_bytes=2048)


@pytest.mark.parametrize(
    "output",
    [
        "",  # the step failed before printing
        "5 100 1000\n",  # the container ended between the samples
        "5 100 1000\n6 100 1000\n",  # no time between them
        "5 100 1000\n6 101\n",
        "5 100 1000\n6 101 12kB\n",  # a human-readable column is not a counter
        "5 100 1000\n6 101 1000\nextra 1 2\n",
        "Error: no container with name or ID found\n",
    ],
)
def test_anything_but_two_samples_is_no_sample(output: str) -> None:
    assert parse_samples(output) is None


def test_the_container_name_is_an_argument_never_script_text() -> None:
    assert '"$1"' in stats_script()
    assert "$(" not in stats_script()


@pytest.mark.slurm
async def test_a_running_job_is_sampled_and_a_finished_one_is_not(
    orchestrator: SlurmOrchestrator, make_spec: Callable[..., ContainerSpec]
) -> None:
    busy = make_spec("sh", "-c", "while :; do :; done", memory=64 * 2**20)
    await orchestrator.start(busy)

    sample = await orchestrator.stats(busy.job_id)

    assert sample is not None
    assert 0 < sample.cpu <= 1.0  # a rate in cores (its limit is half of one), not CPU time
    assert 0 < sample.memory_bytes < 64 * 2**20
    await orchestrator.kill(busy.job_id)
    await orchestrator.wait(busy.job_id)
    assert await orchestrator.stats(busy.job_id) is None
