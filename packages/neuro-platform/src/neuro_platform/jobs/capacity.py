"""The node each cluster's jobs run on, and how many jobs of each preset still fit on it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..machine import detect_machine
from ..presets import Preset
from ..settings import NodeSettings, Settings
from .entities import Resources


@dataclass(frozen=True)
class NodeResources:
    cpu: float
    memory: int
    gpu: int

    @classmethod
    def from_settings(cls, node: NodeSettings) -> NodeResources:
        machine = detect_machine() if None in (node.cpu, node.memory, node.gpu) else None
        return cls(
            cpu=node.cpu if node.cpu is not None else float(machine.cpu_count if machine else 1),
            memory=node.memory
            if node.memory is not None
            else (machine.memory_bytes if machine else 0),
            gpu=node.gpu if node.gpu is not None else len(machine.gpu_models if machine else ()),
        )

    def minus(self, used: Iterable[Resources]) -> NodeResources:
        cpu, memory, gpu = self.cpu, self.memory, self.gpu
        for r in used:
            cpu, memory, gpu = cpu - r.cpu, memory - r.memory, gpu - r.gpu
        # Rounding: ten jobs of 0.1 CPU must fit exactly into one CPU.
        return NodeResources(round(cpu, 6), memory, gpu)

    def plus(self, released: Iterable[Resources]) -> NodeResources:
        cpu, memory, gpu = self.cpu, self.memory, self.gpu
        for r in released:
            cpu, memory, gpu = cpu + r.cpu, memory + r.memory, gpu + r.gpu
        return NodeResources(round(cpu, 6), memory, gpu)

    def fits(self, r: Resources) -> bool:
        return r.cpu <= self.cpu + 1e-9 and r.memory <= self.memory and r.gpu <= self.gpu

    def how_many(self, preset: Preset) -> int:
        counts = [int((self.cpu + 1e-9) // preset.cpu), self.memory // preset.memory]
        if preset.gpu:
            counts.append(self.gpu // preset.gpu)
        return max(0, min(counts))


@dataclass(frozen=True)
class ClusterNodes:
    """What each cluster's engine offers: clusters on different engines (Docker here, a
    Slurm cluster there) have their own room, and a job counts only against its cluster's."""

    by_cluster: Mapping[str, NodeResources]

    @classmethod
    def from_settings(cls, settings: Settings) -> ClusterNodes:
        # Clusters sharing the `[node]` table share one detection (it reads the machine).
        shared = NodeResources.from_settings(settings.node)
        return cls(
            {
                c.name: shared if c.node is None else NodeResources.from_settings(c.node)
                for c in settings.clusters
            }
        )

    def of(self, cluster: str) -> NodeResources:
        # A job of a cluster since removed from the configuration runs where the first
        # cluster's do (the engine router says the same: orchestrator/per_cluster.py).
        return self.by_cluster.get(cluster) or next(iter(self.by_cluster.values()))
