"""Default presets sized from the machine, including GPU presets from `nvidia-smi -L`."""

from __future__ import annotations

from neuro_platform.machine import MachineResources, machine_presets, parse_gpu_listing

GIB = 1024**3
# Captured from a real H100 machine.
H100_LISTING = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-3cb66af1-0f75-45af-5a98-5bda6be36304)\n"


def test_cpu_presets_fit_the_machine() -> None:
    presets = machine_presets(MachineResources(cpu_count=2, memory_bytes=24 * GIB, gpu_models=()))
    assert [(p.name, p.cpu, p.memory) for p in presets] == [
        ("cpu-small", 0.5, 3 * GIB),
        ("cpu-medium", 1.0, 6 * GIB),
        ("cpu-large", 2.0, 12 * GIB),
    ]
    assert all(p.gpu is None for p in presets)


def test_gpu_presets_come_from_nvidia_smi() -> None:
    models = parse_gpu_listing(H100_LISTING)
    assert models == ("NVIDIA H100 80GB HBM3",)
    one = machine_presets(MachineResources(16, 128 * GIB, models))
    gpu = one[-1]
    assert (gpu.name, gpu.gpu, gpu.gpu_model) == ("gpu-small", 1, "nvidia-h100-80gb-hbm3")

    eight = machine_presets(MachineResources(64, 1024 * GIB, models * 8))
    assert [(p.name, p.gpu) for p in eight if p.gpu] == [("gpu-small", 1), ("gpu-large", 8)]


def test_no_gpu_listing_means_no_gpu_presets() -> None:
    assert parse_gpu_listing("") == ()
    assert parse_gpu_listing("NVIDIA-SMI has failed because it couldn't communicate") == ()
