"""GPU use of one container, from the host's `nvidia-smi` (docs/protocol.md §4: `top`'s gpu fields).

Docker's stats carry no GPU figures, and a container given GPUs by a device request does not
say which ones the runtime picked. The host's `nvidia-smi` does know which processes use
which GPU, by host PID, and `docker top` gives the container's host PIDs: the job's GPUs are
the ones its processes use. Its GPU memory is what its processes hold; its duty cycle is the
mean utilization of those GPUs (a GPU is one job's alone, so that is the job's own).
"""

from __future__ import annotations

import asyncio
import csv
import logging
import shutil
from collections.abc import Collection, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

MIB = 2**20
NVIDIA_SMI = "nvidia-smi"
QUERY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class GpuUsage:
    duty_cycle: int  # percent, 0-100
    memory_bytes: int


def usage_of(pids: Collection[int], gpu_utilization: str, compute_apps: str) -> GpuUsage | None:
    """Combine `--query-gpu=uuid,utilization.gpu` and
    `--query-compute-apps=pid,gpu_uuid,used_memory` (csv, noheader, nounits) for `pids`.

    None when none of the processes uses a GPU (yet): the job then shows no GPU fields.
    """
    utilization = {uuid: _number(percent) for uuid, percent in _rows(gpu_utilization, 2)}
    gpus: set[str] = set()
    memory_mib = 0
    for pid, gpu_uuid, used_mib in _rows(compute_apps, 3):
        if pid.isdigit() and int(pid) in pids:
            gpus.add(gpu_uuid)
            memory_mib += _number(used_mib)
    if not gpus:
        return None
    duty = round(sum(utilization.get(gpu, 0) for gpu in gpus) / len(gpus))
    return GpuUsage(duty_cycle=duty, memory_bytes=memory_mib * MIB)


async def gpu_usage(pids: Collection[int]) -> GpuUsage | None:
    """The usage of the processes `pids`; None without `nvidia-smi` or when it fails."""
    if not pids or shutil.which(NVIDIA_SMI) is None:
        return None
    try:
        gpu_utilization, compute_apps = await asyncio.gather(
            _query("--query-gpu=uuid,utilization.gpu"),
            _query("--query-compute-apps=pid,gpu_uuid,used_memory"),
        )
    except (OSError, TimeoutError, RuntimeError) as error:
        # A sample without GPU figures beats no sample: top keeps showing CPU and memory.
        log.warning("nvidia-smi failed: %s", error)
        return None
    return usage_of(pids, gpu_utilization, compute_apps)


async def _query(query: str) -> str:
    process = await asyncio.create_subprocess_exec(
        NVIDIA_SMI,
        query,
        "--format=csv,noheader,nounits",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(QUERY_TIMEOUT_S):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(err.decode(errors="replace").strip() or f"exit {process.returncode}")
    return out.decode()


def _rows(text: str, width: int) -> Iterable[list[str]]:
    for row in csv.reader(text.splitlines(), skipinitialspace=True):
        if len(row) == width:
            yield [cell.strip() for cell in row]


def _number(text: str) -> int:
    # nvidia-smi answers "[N/A]" or "[Not Supported]" for what a GPU cannot report.
    try:
        return int(float(text))
    except ValueError:
        return 0
