"""Resource presets sized from the machine the platform runs on.

Used only when the configuration names no cluster, so that a fresh install offers presets
that can actually be scheduled here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .presets import Preset

MEMINFO = Path("/proc/meminfo")
FALLBACK_MEMORY_BYTES = 4 * 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class MachineResources:
    cpu_count: int
    memory_bytes: int
    gpu_models: tuple[str, ...]


def detect_machine() -> MachineResources:
    return MachineResources(
        cpu_count=os.cpu_count() or 1,
        memory_bytes=_total_memory_bytes(),
        gpu_models=_nvidia_gpu_models(),
    )


def _total_memory_bytes() -> int:
    try:
        text = MEMINFO.read_text()
    except OSError:
        return FALLBACK_MEMORY_BYTES
    match = re.search(r"^MemTotal:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else FALLBACK_MEMORY_BYTES


def _nvidia_gpu_models() -> tuple[str, ...]:
    if shutil.which("nvidia-smi") is None:
        return ()
    try:
        listing = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return parse_gpu_listing(listing)


def parse_gpu_listing(listing: str) -> tuple[str, ...]:
    """GPU models from `nvidia-smi -L`: lines like "GPU 0: NVIDIA H100 80GB HBM3 (UUID: ...)"."""
    return tuple(re.findall(r"^GPU \d+: (.+?) \(UUID", listing, re.MULTILINE))


def gpu_model_slug(model: str) -> str:
    """'NVIDIA H100 80GB HBM3' -> 'nvidia-h100-80gb-hbm3', the style of the original's models."""
    return re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")


def machine_presets(machine: MachineResources) -> tuple[Preset, ...]:
    """cpu-small/medium/large get 1/4, 1/2 and all CPUs, and 1/8, 1/4 and 1/2 of the RAM."""
    presets = [
        Preset(
            name=name,
            cpu=max(0.1, round(machine.cpu_count * share, 1)),
            memory=_round_mib(machine.memory_bytes * share / 2),
        )
        for name, share in (("cpu-small", 0.25), ("cpu-medium", 0.5), ("cpu-large", 1.0))
    ]
    if machine.gpu_models:
        model = gpu_model_slug(machine.gpu_models[0])
        count = sum(1 for m in machine.gpu_models if gpu_model_slug(m) == model)
        presets.append(
            Preset(
                name="gpu-small",
                cpu=max(0.1, round(machine.cpu_count / 2, 1)),
                memory=_round_mib(machine.memory_bytes / 4),
                gpu=1,
                gpu_model=model,
            )
        )
        if count > 1:
            presets.append(
                Preset(
                    name="gpu-large",
                    cpu=float(machine.cpu_count),
                    memory=_round_mib(machine.memory_bytes / 2),
                    gpu=count,
                    gpu_model=model,
                )
            )
    return tuple(presets)


def _round_mib(value: float) -> int:
    return max(16, int(value) // MIB) * MIB
