"""`neuro top` on Slurm: a step in the job's allocation asks podman on the job's node for two
samples of the container's counters a second apart, as Docker's one-shot stats do, so the
CPU figure is the current rate and not the average since the container started."""

from __future__ import annotations

from .state import ContainerStats

SAMPLE_INTERVAL_S = 1
# Raw counters (podman's own columns are rounded, human-readable strings): CPU time and the
# sample's clock, both in nanoseconds, and memory in use in bytes.
_FORMAT = "{{.ContainerStats.CPUNano}} {{.ContainerStats.SystemNano}} {{.ContainerStats.MemUsage}}"


def stats_script() -> str:
    """What the step runs (the container's name as `$1`): two sample lines, or it fails."""
    sample = f"podman stats --no-stream --format '{_FORMAT}' \"$1\""
    return f"{sample} && sleep {SAMPLE_INTERVAL_S} && {sample}"


def parse_samples(output: str) -> ContainerStats | None:
    """The usage from the script's two lines; None when they are not two samples (the
    container ended between them, or the step could not run)."""
    try:
        first, second = ([int(field) for field in line.split()] for line in output.splitlines())
        (cpu_before, clock_before, _), (cpu_after, clock_after, memory) = first, second
    except ValueError:
        return None
    elapsed = clock_after - clock_before
    if elapsed <= 0:
        return None
    return ContainerStats(cpu=max(0, cpu_after - cpu_before) / elapsed, memory_bytes=memory)
