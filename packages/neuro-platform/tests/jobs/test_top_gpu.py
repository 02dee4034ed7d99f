"""`top`'s gpu fields (docs/protocol.md §4): present only for a job whose processes use GPUs.

This machine has no GPU: the GPU figures are checked on `nvidia-smi`'s own output format
(what the host answers with a job's process on one of two GPUs), and the no-GPU frame on a
real job.
"""

from __future__ import annotations

import json

from neuro_platform.orchestrator.gpu_usage import GpuUsage, usage_of

from .client import JobsClient
from .conftest import busybox_job

MIB = 2**20
GPU_A = "GPU-4c1e5a3e-6d2b-11ee-9f5a-0242ac120002"
GPU_B = "GPU-8f0b2c7d-6d2b-11ee-9f5a-0242ac120002"
# nvidia-smi --query-gpu=uuid,utilization.gpu --format=csv,noheader,nounits
UTILIZATION = f"{GPU_A}, 87\n{GPU_B}, 3\n"
# nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv,noheader,nounits
COMPUTE_APPS = f"4242, {GPU_A}, 1536\n4243, {GPU_A}, 512\n9999, {GPU_B}, 20000\n"


def test_a_job_gets_the_use_of_the_gpus_its_processes_hold() -> None:
    usage = usage_of({4242, 4243, 17}, UTILIZATION, COMPUTE_APPS)

    # Only GPU A is the job's: its duty cycle, and the memory of the job's two processes.
    assert usage == GpuUsage(duty_cycle=87, memory_bytes=2048 * MIB)


def test_a_job_using_two_gpus_gets_their_mean_duty_cycle() -> None:
    usage = usage_of({4242, 9999}, UTILIZATION, COMPUTE_APPS)

    assert usage == GpuUsage(duty_cycle=45, memory_bytes=(1536 + 20000) * MIB)


def test_no_gpu_figures_for_a_job_whose_processes_use_no_gpu() -> None:
    assert usage_of({17, 18}, UTILIZATION, COMPUTE_APPS) is None
    assert usage_of({4242}, UTILIZATION, "") is None


def test_figures_a_gpu_cannot_report_count_as_zero() -> None:
    usage = usage_of({4242}, f"{GPU_A}, [N/A]\n", f"4242, {GPU_A}, [N/A]\n")

    assert usage == GpuUsage(duty_cycle=0, memory_bytes=0)


async def test_top_of_a_job_without_gpus_has_no_gpu_fields(alice: JobsClient) -> None:
    job = await alice.submit(busybox_job("sleep 300"))
    await alice.wait_for(job["id"], ["running"])

    async with alice.session.ws_connect(alice.jobs_url / job["id"] / "top") as ws:
        sample = json.loads(await ws.receive_str())

    assert set(sample) == {"cpu", "memory", "memory_bytes", "timestamp"}
    await alice.kill(job["id"])
