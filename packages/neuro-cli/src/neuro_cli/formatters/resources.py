"""Output of ``neuro secret``, ``neuro disk`` and ``neuro service-account``."""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from rich.console import RenderableType
from rich.table import Table
from yarl import URL

import neuro_sdk
from neuro_cli.formatters.times import format_datetime

_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]


def format_bytes(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_duration(duration: timedelta | None) -> str:
    if duration is None:
        return ""
    seconds = int(duration.total_seconds())
    parts = []
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, length)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _when(moment: datetime | None) -> str:
    return format_datetime(moment)


def _table(*columns: str) -> Table:
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, no_wrap=True)
    return table


def format_secrets(
    secrets: Iterable[neuro_sdk.Secret], uri: Callable[[URL], str] = str
) -> RenderableType:
    table = _table("Key", "Owner", "Org", "Uri")
    for secret in secrets:
        table.add_row(secret.key, secret.owner, secret.org_name or "", uri(secret.uri))
    return table


def format_disks(
    disks: Iterable[neuro_sdk.Disk], *, long: bool = False, uri: Callable[[URL], str] = str
) -> RenderableType:
    # The URI and dates only in the long format (--long-format): they repeat the id and
    # would push the table past 120 columns.
    columns = ["Id", "Name", "Storage", "Used", "Status", "Timeout unused"]
    table = _table(*columns, *(["Uri", "Created at", "Last usage"] if long else []))
    for disk in disks:
        cells = [
            disk.id,
            disk.name or "",
            format_bytes(disk.storage),
            format_bytes(disk.used_bytes),
            disk.status.value,
            format_duration(disk.timeout_unused),
        ]
        if long:
            cells += [uri(disk.uri), _when(disk.created_at), _when(disk.last_usage)]
        table.add_row(*cells)
    return table


def format_disk(disk: neuro_sdk.Disk, uri: Callable[[URL], str] = str) -> RenderableType:
    table = Table(box=None, show_header=False, show_edge=False, pad_edge=False)
    table.add_column("Field", style="bold", no_wrap=True)
    table.add_column("Value")
    rows = [
        ("Id", disk.id),
        ("Name", disk.name or ""),
        ("Storage", format_bytes(disk.storage)),
        ("Used", format_bytes(disk.used_bytes)),
        ("Uri", uri(disk.uri)),
        ("Status", disk.status.value),
        ("Owner", disk.owner),
        ("Org", disk.org_name or ""),
        ("Created at", _when(disk.created_at)),
        ("Last usage", _when(disk.last_usage)),
        ("Timeout unused", format_duration(disk.timeout_unused)),
    ]
    for field, value in rows:
        if value:
            table.add_row(field, value)
    return table


def format_service_accounts(accounts: Iterable[neuro_sdk.ServiceAccount]) -> RenderableType:
    table = _table("Id", "Name", "Role", "Default cluster", "Created at", "Role deleted")
    for account in accounts:
        table.add_row(
            account.id,
            account.name or "",
            account.role,
            account.default_cluster,
            _when(account.created_at),
            "yes" if account.role_deleted else "",
        )
    return table


def format_service_account(account: neuro_sdk.ServiceAccount) -> RenderableType:
    return format_service_accounts([account])


TOKEN_NOTICE = "The token, shown this once only (use it as NEURO_PASSED_CONFIG):"
