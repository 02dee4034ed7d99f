"""Formatter output rendered into a fixed-width console, compared with stored snapshots."""

from decimal import Decimal
from io import StringIO

import pytest
from rich.console import Console, RenderableType
from yarl import URL

from neuro_cli.formatters.config import format_clusters, format_presets
from neuro_cli.formatters.units import format_cpu, format_memory_mb
from neuro_sdk import Cluster, Preset

CPU_SMALL = Preset(credits_per_hour=Decimal("0"), cpu=0.5, memory_mb=1024)
GPU_LARGE = Preset(
    credits_per_hour=Decimal("10"),
    cpu=8,
    memory_mb=64 * 1024,
    scheduler_enabled=True,
    preemptible_node=True,
    gpu=2,
    gpu_model="nvidia-a100",
)


def render(renderable: RenderableType, width: int = 80) -> str:
    out = StringIO()
    Console(file=out, width=width, color_system=None, highlight=False).print(renderable)
    # Tables pad their cells; trailing blanks are invisible and not part of the snapshot.
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"


def cluster(name: str, orgs: list[str | None], presets: dict[str, Preset]) -> Cluster:
    base = URL("http://127.0.0.1:8080/api/v1")
    return Cluster(
        name=name,
        orgs=orgs,
        registry_url=URL("http://127.0.0.1:5000"),
        storage_url=base / "storage",
        users_url=URL("http://127.0.0.1:8080"),
        monitoring_url=base / "jobs",
        secrets_url=base / "secrets",
        disks_url=base / "disk",
        buckets_url=base / "buckets",
        presets=presets,
    )


def test_presets_table() -> None:
    assert render(format_presets({"cpu-small": CPU_SMALL, "gpu-large": GPU_LARGE})) == (
        "Resource Presets:\n"
        " Name        #CPU   Memory   Preemptible   GPU\n"
        "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━\n"
        " cpu-small    0.5    1 GiB       no\n"
        " gpu-large      8   64 GiB       yes       2 x nvidia-a100\n"
    )


def test_clusters_mark_the_current_cluster() -> None:
    clusters = [
        cluster("default", [None, "acme"], {"cpu-small": CPU_SMALL}),
        cluster("gpu", [None], {"gpu-large": GPU_LARGE}),
    ]

    assert render(format_clusters(clusters, "gpu", None)) == (
        "Available clusters:\n"
        "  Name: default\n"
        "  Orgs: <no-org>, acme\n"
        "  Resource Presets:\n"
        "   Name        #CPU   Memory   Preemptible   GPU\n"
        "  ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━\n"
        "   cpu-small    0.5    1 GiB       no\n"
        "* Name: gpu\n"
        "  Orgs: <no-org>\n"
        "  Resource Presets:\n"
        "   Name        #CPU   Memory   Preemptible   GPU\n"
        "  ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━\n"
        "   gpu-large      8   64 GiB       yes       2 x nvidia-a100\n"
    )


@pytest.mark.parametrize(
    ("memory_mb", "shown"),
    [(512, "512 MiB"), (1024, "1 GiB"), (1536, "1.5 GiB"), (16 * 1024, "16 GiB")],
)
def test_memory_is_shown_in_binary_units(memory_mb: int, shown: str) -> None:
    assert format_memory_mb(memory_mb) == shown


@pytest.mark.parametrize(("cpu", "shown"), [(1.0, "1"), (0.5, "0.5"), (0.25, "0.25")])
def test_cpu_has_no_trailing_zeros(cpu: float, shown: str) -> None:
    assert format_cpu(cpu) == shown
