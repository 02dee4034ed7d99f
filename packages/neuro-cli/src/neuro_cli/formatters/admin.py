"""Output of the ``neuro admin ...`` commands, laid out as the original prints them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

import neuro_sdk
from neuro_cli.formatters.config import format_quota_details
from neuro_cli.formatters.times import format_datetime


def _registered(created_at: datetime | None) -> str:
    return format_datetime(created_at)


def _info(user: neuro_sdk._ClusterUser | neuro_sdk._OrgUser) -> tuple[str, str, str]:
    info = getattr(user, "user_info", None)
    if info is None:
        return "", "", ""
    return info.email, info.full_name, _registered(info.created_at)


def format_cluster_users(users: Iterable[neuro_sdk._ClusterUser]) -> RenderableType:
    table = Table(box=box.MINIMAL_HEAVY_HEAD)
    for column in ("Name", "Org", "Role", "Email", "Full name", "Registered"):
        table.add_column(column, style="bold" if column == "Name" else None)
    table.add_column("Credits", max_width=10, overflow="fold")
    table.add_column("Spent credits", max_width=14, overflow="fold")
    table.add_column("Max jobs", max_width=10, overflow="fold")
    for user in sorted(users, key=lambda u: (u.user_name, u.org_name or "")):
        table.add_row(
            user.user_name,
            user.org_name or "",
            str(user.role),
            *_info(user),
            format_quota_details(user.balance.credits),
            format_quota_details(user.balance.spent_credits),
            format_quota_details(user.quota.total_running_jobs),
        )
    return table


def format_org_users(users: Iterable[neuro_sdk._OrgUser]) -> RenderableType:
    table = Table(box=box.MINIMAL_HEAVY_HEAD)
    for column in ("Name", "Role", "Email", "Full name", "Registered"):
        table.add_column(column, style="bold" if column == "Name" else None)
    for user in sorted(users, key=lambda u: u.user_name):
        table.add_row(user.user_name, str(user.role), *_info(user))
    return table


def format_orgs(orgs: Iterable[neuro_sdk._Org]) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAVY)
    table.add_column("Name")
    for org in orgs:
        table.add_row(org.name)
    return table


def format_clusters(clusters: Iterable[neuro_sdk._Cluster]) -> RenderableType:
    parts: list[RenderableType] = []
    for cluster in clusters:
        table = Table(
            title=cluster.name,
            title_justify="left",
            title_style="bold italic",
            box=None,
            show_header=False,
            show_edge=False,
            min_width=len(cluster.name),
        )
        table.add_column()
        table.add_column(style="bold")
        table.add_row("Default credits", format_quota_details(cluster.default_credits))
        table.add_row(
            "Default max jobs", format_quota_details(cluster.default_quota.total_running_jobs)
        )
        table.add_row("Default role", str(cluster.default_role))
        parts.append(table)
    return Group(*parts)


def format_org_clusters(org_clusters: Iterable[neuro_sdk._OrgCluster]) -> RenderableType:
    table = Table(box=box.MINIMAL_HEAVY_HEAD)
    table.add_column("Org name", style="bold")
    for column in (
        "Cluster name",
        "Credits",
        "Spent credits",
        "Max jobs",
        "Default credits",
        "Default max jobs",
        "Default role",
    ):
        table.add_column(column)
    for org in sorted(org_clusters, key=lambda o: o.org_name):
        table.add_row(
            org.org_name,
            org.cluster_name,
            format_quota_details(org.balance.credits),
            format_quota_details(org.balance.spent_credits),
            format_quota_details(org.quota.total_running_jobs),
            format_quota_details(org.default_credits),
            format_quota_details(org.default_quota.total_running_jobs),
            str(org.default_role),
        )
    return table


def format_org_cluster(org: neuro_sdk._OrgCluster) -> RenderableType:
    table = Table(box=None, show_header=False, show_edge=False)
    table.add_column()
    table.add_column(style="bold")
    table.add_row("Credits", format_quota_details(org.balance.credits))
    table.add_row("Spent credits", format_quota_details(org.balance.spent_credits))
    table.add_row("Max jobs", format_quota_details(org.quota.total_running_jobs))
    table.add_row("Default credits", format_quota_details(org.default_credits))
    table.add_row("Default max jobs", format_quota_details(org.default_quota.total_running_jobs))
    table.add_row("Default role", str(org.default_role))
    return table


def format_jobs_quota(quota: neuro_sdk._Quota) -> RenderableType:
    return Text.assemble(
        Text("Jobs", style="bold"), ": ", format_quota_details(quota.total_running_jobs)
    )


def format_balance(balance: neuro_sdk._Balance) -> RenderableType:
    return Group(
        Text.assemble(Text("Credits", style="bold"), ": ", format_quota_details(balance.credits)),
        Text.assemble(
            Text("Credits spent", style="bold"),
            ": ",
            format_quota_details(balance.spent_credits),
        ),
    )
