"""Output of the ``neuro config ...`` commands."""

from collections.abc import Iterable, Mapping
from decimal import Decimal

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from yarl import URL

import neuro_sdk
from neuro_cli.formatters.units import format_cpu, format_memory_mb

NO_ORG_LABEL = "<no-org>"


def org_label(org_name: str | None) -> str:
    return org_name or NO_ORG_LABEL


def format_quota_details(quota: int | Decimal | None) -> str:
    """A quota figure as the original prints it: ``unlimited``, credits with two decimals."""
    if quota is None:
        return "unlimited"
    if isinstance(quota, Decimal):
        return f"{quota:.2f}"
    return str(quota)


def format_config(
    config: neuro_sdk.Config,
    quota: neuro_sdk.Quota | None = None,
    org_quota: neuro_sdk.Quota | None = None,
) -> RenderableType:
    """``neuro config show``: who and where the user is, what is left of their quotas, then
    the presets to run on."""
    settings = Table(
        title="User Configuration:",
        title_justify="left",
        box=None,
        show_header=False,
        show_edge=False,
    )
    settings.add_column("Setting")
    settings.add_column("Value", style="bold")
    settings.add_row("User Name", config.username)
    settings.add_row("Current Cluster", config.cluster_name)
    settings.add_row("Current Org", org_label(config.org_name))
    if quota is not None:
        settings.add_row("Credits Quota", format_quota_details(quota.credits))
        settings.add_row("Jobs Quota", format_quota_details(quota.total_running_jobs))
    if org_quota is not None:
        settings.add_row("Org Credits Quota", format_quota_details(org_quota.credits))
        settings.add_row("Org Jobs Quota", format_quota_details(org_quota.total_running_jobs))
    settings.add_row("API URL", str(config.api_url))
    settings.add_row("Docker Registry URL", str(config.registry_url))
    return Group(settings, format_presets(config.presets))


def format_presets(presets: Mapping[str, neuro_sdk.Preset]) -> Table:
    table = Table(
        title="Resource Presets:",
        title_justify="left",
        box=box.SIMPLE_HEAVY,
        show_edge=False,
    )
    table.add_column("Name", style="bold")
    table.add_column("#CPU", justify="right")
    table.add_column("Memory", justify="right")
    table.add_column("Preemptible", justify="center")
    table.add_column("GPU")
    for name, preset in presets.items():
        table.add_row(
            name,
            format_cpu(preset.cpu),
            format_memory_mb(preset.memory_mb),
            "yes" if preset.is_preemptible else "no",
            f"{preset.gpu} x {preset.gpu_model}" if preset.gpu else "",
        )
    return table


def format_clusters(
    clusters: Iterable[neuro_sdk.Cluster], current_cluster: str, current_org: str | None
) -> RenderableType:
    """``neuro config get-clusters``: every cluster, the current one marked with ``*``."""
    parts: list[RenderableType] = [Text("Available clusters:", style="italic")]
    for cluster in clusters:
        is_current = cluster.name == current_cluster
        marker = "* " if is_current else "  "
        parts.append(
            Text.assemble(marker, "Name: ", Text(cluster.name, style="u" if is_current else ""))
        )
        orgs = [
            Text(org_label(org), style="u" if is_current and org == current_org else "")
            for org in cluster.orgs
        ]
        parts.append(Text.assemble("  Orgs: ", Text(", ").join(orgs)))
        parts.append(Padding.indent(format_presets(cluster.presets), 2))
    return Group(*parts)


def format_welcome(url: URL, config: neuro_sdk.Config) -> RenderableType:
    return Text.assemble(
        f"Logged into {url} as ",
        Text(config.username, style="u"),
        ", current cluster is ",
        Text(config.cluster_name, style="bold"),
        ", org is ",
        Text(org_label(config.org_name), style="bold"),
    )
