"""Output of the job commands: the ``ps`` table, ``status``, ``top`` and run summaries.

Times are shown in the ``tz`` the caller gives (the commands pass local time; tests pass
UTC so that snapshots do not depend on the machine).
"""

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text
from yarl import URL

import neuro_sdk
from neuro_cli.formatters.streamed import Cell, Row, TableFactory, print_streamed
from neuro_cli.formatters.times import format_datetime
from neuro_cli.formatters.units import format_cpu, format_memory_mb

STATUS_STYLES = {
    neuro_sdk.JobStatus.PENDING: "cyan",
    neuro_sdk.JobStatus.SUSPENDED: "magenta",
    neuro_sdk.JobStatus.RUNNING: "blue",
    neuro_sdk.JobStatus.SUCCEEDED: "green",
    neuro_sdk.JobStatus.FAILED: "red",
    neuro_sdk.JobStatus.CANCELLED: "yellow",
    neuro_sdk.JobStatus.UNKNOWN: "dim",
}
UriFormatter = Callable[[URL], str]


def format_time(value: datetime | None, tz: tzinfo | None, iso: bool = False) -> str:
    """A job's moment, by formatters/times.py's rule; ``iso=True`` asks for ISO 8601 whatever
    the global option says."""
    return format_datetime(value, tz, iso=True if iso else None)


def format_duration(seconds: float) -> str:
    """``1d2h3m4s`` style, the form ``--life-span`` accepts."""
    total = int(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def status_text(job: neuro_sdk.JobDescription) -> Text:
    reason = f" ({job.history.reason})" if job.history.reason else ""
    return Text(f"{job.status}{reason}", style=STATUS_STYLES[job.status])


def _when(job: neuro_sdk.JobDescription) -> datetime | None:
    history = job.history
    if job.status.is_finished:
        return history.finished_at
    if job.status.is_running:
        return history.started_at
    return history.created_at


def _command(job: neuro_sdk.JobDescription) -> str:
    parts = [job.container.entrypoint, job.container.command]
    return " ".join(part for part in parts if part)


@dataclass(frozen=True)
class Column:
    title: str
    # Narrow columns never shrink; the wide ones are cut with an ellipsis unless --wide.
    wide: bool = False


# The ids ``--format`` and ``job.ps-format`` accept, in the default order.
COLUMNS: dict[str, Column] = {
    "id": Column("ID"),
    "name": Column("NAME"),
    "status": Column("STATUS"),
    "when": Column("WHEN"),
    "image": Column("IMAGE", wide=True),
    "owner": Column("OWNER"),
    "cluster": Column("CLUSTER"),
    "org": Column("ORG"),
    "preset": Column("PRESET"),
    "tags": Column("TAGS", wide=True),
    "description": Column("DESCRIPTION", wide=True),
    "command": Column("COMMAND", wide=True),
    "life_span": Column("LIFE-SPAN"),
    "http_url": Column("HTTP-URL", wide=True),
}
WIDE_COLUMN_MAX = 30
DEFAULT_PS_COLUMNS = ("id", "name", "status", "when", "image", "owner", "command")


def parse_ps_format(text: str) -> tuple[str, ...]:
    """``"id name status"`` or ``"id,name,status"`` → column ids; unknown ids are errors."""
    columns = tuple(part.lower() for part in text.replace(",", " ").split())
    unknown = [column for column in columns if column not in COLUMNS]
    if unknown or not columns:
        raise ValueError(
            f"Unknown ps format column(s) {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(COLUMNS)}"
        )
    return columns


# `neuro top` shows the ps columns plus these, filled from the job's latest sample.
TOP_COLUMNS: dict[str, Column] = {
    **COLUMNS,
    "cpu": Column("CPU"),
    "memory": Column("MEMORY (MB)"),
    "gpu": Column("GPU (%)"),
    "gpu_memory": Column("GPU MEMORY (MB)"),
}
DEFAULT_TOP_COLUMNS = ("id", "name", "when", "cpu", "memory", "gpu", "gpu_memory")
TELEMETRY_KEYS: dict[str, Callable[[neuro_sdk.JobTelemetry], float]] = {
    "cpu": lambda sample: sample.cpu,
    "memory": lambda sample: sample.memory,
    "gpu": lambda sample: sample.gpu_duty_cycle or 0,
    "gpu_memory": lambda sample: sample.gpu_memory or 0,
}
SortKey = tuple[str, bool]  # (column id, descending)


def parse_top_format(text: str) -> tuple[str, ...]:
    columns = tuple(part.lower() for part in text.replace(",", " ").split())
    unknown = [column for column in columns if column not in TOP_COLUMNS]
    if unknown or not columns:
        raise ValueError(
            f"Unknown top format column(s) {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(TOP_COLUMNS)}"
        )
    return columns


def parse_sort_keys(text: str) -> tuple[SortKey, ...]:
    """``"cpu,-memory"``: by CPU, then by memory descending (22.x's ``--sort``)."""
    keys = []
    for part in text.split(","):
        part = part.strip()
        descending = part.startswith("-")
        column = part.removeprefix("-")
        if column not in TOP_COLUMNS:
            raise ValueError(f"Unknown sort column {column!r}; known: {', '.join(TOP_COLUMNS)}")
        keys.append((column, descending))
    return tuple(keys)


def format_top(
    samples: Iterable[tuple[neuro_sdk.JobDescription, neuro_sdk.JobTelemetry]],
    *,
    columns: Sequence[str] = DEFAULT_TOP_COLUMNS,
    sort: Sequence[SortKey] = (("cpu", False),),
    tz: tzinfo | None = None,
    uri: UriFormatter = str,
    iso: bool = False,
) -> Table:
    """``neuro top``: one row per job, from its latest sample."""
    rows = list(samples)

    def value(row: tuple[neuro_sdk.JobDescription, neuro_sdk.JobTelemetry], column: str) -> Any:
        job, sample = row
        if column in TELEMETRY_KEYS:
            return TELEMETRY_KEYS[column](sample)
        if column == "when":
            return _when(job) or datetime.min.replace(tzinfo=UTC)
        return str(_cell(job, column, tz, uri, iso))

    # Stable sorts from the last key to the first: the first key decides most.
    for column, descending in reversed(sort):
        rows.sort(key=lambda row: value(row, column), reverse=descending)
    table = Table(box=box.SIMPLE_HEAVY, show_edge=False)
    for column in columns:
        table.add_column(TOP_COLUMNS[column].title, no_wrap=True)
    for job, sample in rows:
        cells: list[str | Text] = []
        for column in columns:
            if column == "cpu":
                cells.append(f"{sample.cpu:.3f}")
            elif column in TELEMETRY_KEYS:
                cells.append(f"{TELEMETRY_KEYS[column](sample):.1f}".removesuffix(".0"))
            else:
                cells.append(_cell(job, column, tz, uri, iso))
        table.add_row(*cells)
    return table


def format_image(image: neuro_sdk.RemoteImage, uri: UriFormatter = str) -> str:
    if image.is_in_platform_registry:
        return uri(URL(str(image)))
    return str(image)


# One getter per column: a row computes only the columns asked for.
_CELLS: dict[
    str, Callable[[neuro_sdk.JobDescription, tzinfo | None, UriFormatter, bool], str | Text]
] = {
    "id": lambda job, tz, uri, iso: job.id,
    "name": lambda job, tz, uri, iso: job.name or "",
    "status": lambda job, tz, uri, iso: status_text(job),
    "when": lambda job, tz, uri, iso: format_time(_when(job), tz, iso),
    "image": lambda job, tz, uri, iso: format_image(job.container.image, uri),
    "owner": lambda job, tz, uri, iso: job.owner,
    "cluster": lambda job, tz, uri, iso: job.cluster_name,
    "org": lambda job, tz, uri, iso: job.org_name or "",
    "preset": lambda job, tz, uri, iso: job.preset_name or "",
    "tags": lambda job, tz, uri, iso: ", ".join(job.tags),
    "description": lambda job, tz, uri, iso: job.description or "",
    "command": lambda job, tz, uri, iso: _command(job),
    "life_span": lambda job, tz, uri, iso: (
        format_duration(job.life_span) if job.life_span else "no limit"
    ),
    "http_url": lambda job, tz, uri, iso: str(job.http_url) if job.http_url.host else "",
}


def _cell(
    job: neuro_sdk.JobDescription, column: str, tz: tzinfo | None, uri: UriFormatter, iso: bool
) -> str | Text:
    return _CELLS[column](job, tz, uri, iso)


def job_row(
    job: neuro_sdk.JobDescription,
    columns: Sequence[str],
    tz: tzinfo | None,
    uri: UriFormatter = str,
    iso: bool = False,
) -> list[Cell]:
    return [_CELLS[column](job, tz, uri, iso) for column in columns]


def jobs_table(columns: Sequence[str], wide: bool) -> TableFactory:
    """The empty ``neuro ps`` table for a set of rows: ids and other short columns are never
    cut, long ones are unless ``wide``."""

    def make(rows: Sequence[Row]) -> Table:
        table = Table(box=box.SIMPLE_HEAVY, show_edge=False)
        for index, column_id in enumerate(columns):
            column = COLUMNS[column_id]
            if column.wide:
                table.add_column(
                    column.title,
                    no_wrap=not wide,
                    overflow="fold" if wide else "ellipsis",
                    max_width=None if wide else WIDE_COLUMN_MAX,
                )
            else:
                longest = max((len(str(row[index])) for row in rows), default=0)
                table.add_column(
                    column.title, no_wrap=True, min_width=max(longest, len(column.title))
                )
        return table

    return make


def format_jobs(
    jobs: Iterable[neuro_sdk.JobDescription],
    *,
    columns: Sequence[str] = DEFAULT_PS_COLUMNS,
    wide: bool = False,
    tz: tzinfo | None = None,
    uri: UriFormatter = str,
    iso: bool = False,
) -> Table:
    """``neuro ps`` as one rich Table (``neuro ps`` itself streams it: ``print_jobs``)."""
    rows = [job_row(job, columns, tz, uri, iso) for job in jobs]
    table = jobs_table(columns, wide)(rows)
    for row in rows:
        table.add_row(*row)
    return table


async def print_jobs(
    console: Console,
    jobs: AsyncIterator[neuro_sdk.JobDescription],
    *,
    columns: Sequence[str] = DEFAULT_PS_COLUMNS,
    wide: bool = False,
    tz: tzinfo | None = None,
    uri: UriFormatter = str,
    iso: bool = False,
) -> None:
    """``neuro ps``: the rows are printed as the jobs arrive, a chunk at a time."""

    async def rows() -> AsyncIterator[Row]:
        async for job in jobs:
            yield job_row(job, columns, tz, uri, iso)

    await print_streamed(console, jobs_table(columns, wide), rows())


def format_job_status(
    job: neuro_sdk.JobDescription,
    *,
    tz: tzinfo | None = None,
    uri: UriFormatter = str,
    iso: bool = False,
) -> Table:
    """``neuro status``: every detail of one job, one per line."""
    table = Table.grid(padding=(0, 3))
    table.add_column(style="bold")
    table.add_column()
    container = job.container
    resources = container.resources
    history = job.history

    def row(label: str, value: str | Text | None) -> None:
        if value:
            table.add_row(label, value)

    row("Job", job.id)
    row("Name", job.name)
    row("Owner", job.owner)
    row("Cluster", job.cluster_name)
    row("Org", job.org_name)
    row("Description", job.description)
    row("Tags", ", ".join(job.tags))
    row("Status", status_text(job))
    row("Status description", history.description)
    row("Image", format_image(container.image, uri))
    row("Entrypoint", container.entrypoint)
    row("Command", container.command)
    row("Working dir", container.working_dir)
    row("Preset", job.preset_name)
    gpu = f", {resources.gpu} x {resources.gpu_model or 'GPU'}" if resources.gpu else ""
    row(
        "Resources",
        f"{format_cpu(resources.cpu)} CPU, {format_memory_mb(resources.memory_mb)}{gpu}"
        + (", extended /dev/shm" if resources.shm else ""),
    )
    row("Priority", job.priority.name.lower())
    row("Restart policy", str(job.restart_policy))
    row("Life span", format_duration(job.life_span) if job.life_span else "no limit")
    row("Schedule timeout", format_duration(job.schedule_timeout) if job.schedule_timeout else "")
    row("Preemptible", "yes" if job.scheduler_enabled else "")
    row("Privileged", "yes" if job.privileged else "")
    row("TTY", "yes" if container.tty else "")
    if container.http is not None:
        auth = "with auth" if container.http.requires_auth else "without auth"
        row("Http URL", f"{job.http_url} (port {container.http.port}, {auth})")
    row("Internal hostname", job.internal_hostname)
    row("Internal hostname named", job.internal_hostname_named)
    for name, value in sorted(container.env.items()):
        row(f"Env {name}", value)
    for name, secret_uri in sorted(container.secret_env.items()):
        row(f"Env {name}", f"{uri(secret_uri)} (secret)")
    for volume in container.volumes:
        mode = "ro" if volume.read_only else "rw"
        row("Volume", f"{uri(volume.storage_uri)} -> {volume.container_path} ({mode})")
    for secret in container.secret_files:
        row("Secret file", f"{uri(secret.secret_uri)} -> {secret.container_path}")
    for disk in container.disk_volumes:
        mode = "ro" if disk.read_only else "rw"
        row("Disk", f"{uri(disk.disk_uri)} -> {disk.container_path} ({mode})")
    row("Created", format_time(history.created_at, tz, iso))
    row("Started", format_time(history.started_at, tz, iso))
    row("Finished", format_time(history.finished_at, tz, iso))
    row("Restarts", str(history.restarts) if history.restarts else "")
    if history.exit_code is not None:
        table.add_row("Exit code", str(history.exit_code))
    return table


def format_job_started(job: neuro_sdk.JobDescription) -> Text:
    """What ``neuro run`` says once the job is submitted."""
    name = f", name {job.name}" if job.name else ""
    return Text.assemble("Job ID: ", Text(job.id, style="bold"), name, " ", status_text(job))


def format_detached_hints(job: neuro_sdk.JobDescription) -> RenderableType:
    ref = job.name or job.id
    lines = [
        format_job_started(job),
        Text(f"  neuro status {ref}   # the job's status"),
        Text(f"  neuro logs {ref}     # its output"),
        Text(f"  neuro kill {ref}     # stop it"),
    ]
    if job.container.http is not None:
        lines.append(Text(f"Http URL: {job.http_url}"))
    table = Table.grid()
    table.add_column()
    for line in lines:
        table.add_row(line)
    return table


def format_telemetry(
    job_id: str, telemetry: neuro_sdk.JobTelemetry, *, tz: tzinfo | None = None
) -> Table:
    """One ``neuro top`` sample."""
    table = Table(box=box.SIMPLE_HEAVY, show_edge=False)
    for title in ("JOB", "TIME", "CPU", "MEMORY (MB)", "GPU (%)", "GPU MEMORY (MB)"):
        table.add_column(title, justify="left" if title in ("JOB", "TIME") else "right")
    moment = datetime.fromtimestamp(telemetry.timestamp, tz)
    has_gpu = telemetry.gpu_duty_cycle is not None
    table.add_row(
        job_id,
        format_datetime(moment, tz),
        f"{telemetry.cpu:.3f}",
        f"{telemetry.memory:.1f}",
        str(telemetry.gpu_duty_cycle) if has_gpu else "0",
        f"{telemetry.gpu_memory:.1f}" if telemetry.gpu_memory is not None else "0",
    )
    return table
