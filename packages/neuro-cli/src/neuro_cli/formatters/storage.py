"""How storage listings, trees, disk usage and transfer progress look on the console."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from yarl import URL

import neuro_sdk
from neuro_cli.formatters.streamed import Row, cell_width, print_rows
from neuro_cli.formatters.times import format_timestamp

if TYPE_CHECKING:
    from rich.progress import TaskID

# Keyed by the enums' values, which their members hash and compare as (StrEnum).
_TYPE_LETTERS = {"DIRECTORY": "d", "FILE": "-", "SYMLINK": "l"}
_PERMISSION_LETTERS = {"read": "r", "write": "w", "manage": "m"}
_SIZE_UNITS = ("", "K", "M", "G", "T", "P")


def human_size(size: int) -> str:
    """1023 -> "1023", 1536 -> "1.5K", 10 MiB -> "10M" (powers of 1024, like ls -h)."""
    value = float(size)
    for unit in _SIZE_UNITS:
        if value < 1024 or unit == _SIZE_UNITS[-1]:
            if not unit:
                return str(size)
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_time(timestamp: int) -> str:
    return format_timestamp(timestamp)


def format_short_listing(statuses: Sequence[neuro_sdk.FileStatus]) -> RenderableType:
    return ShortListing([status.name for status in statuses])


def print_short_listing(console: Console, names: Sequence[str]) -> None:
    """``ShortListing`` printed without rich cropping its lines: each one fits already."""
    console.print(ShortListing(names), crop=False)


# Names that fit go out as one segment of up to this many lines: rich's cost is mostly per
# segment, and cropping (``console.print``'s default) splits a segment in time quadratic in
# its length, so a run stays short.
_SHORT_RUN = 256


@dataclass(frozen=True)
class ShortListing:
    """One name a line, as ``Text("\\n".join(names))`` prints (a name wider than the console
    folds over lines), without rich wrapping each of 100k lines that fit anyway."""

    names: Sequence[str]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        run: list[str] = []  # names that fit, printed as they are
        for name in self.names:
            # A printable name has no control codes for Text() to strip; tabs, newlines
            # and the like, and names wider than the console, rich renders itself.
            if name.isprintable() and cell_width(name) <= options.max_width:
                run.append(name)
                if len(run) == _SHORT_RUN:
                    yield _lines(run)
                    run = []
            else:
                if run:
                    yield _lines(run)
                    run = []
                yield from console.render(Text(name), options)
        if run:
            yield _lines(run)


def _lines(names: list[str]) -> Segment:
    return Segment("\n".join(names) + "\n")


def _long_table(rows: Sequence[Row]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column()
    table.add_column(justify="right")
    table.add_column()
    table.add_column()
    return table


def long_row_maker(*, human_readable: bool) -> Callable[[neuro_sdk.FileStatus], Row]:
    """The row of an entry in ``ls -l``: type and permission letters, size, modification
    time, name (made as the entries arrive; printed once sorted)."""
    times: dict[int, str] = {}  # a folder's files share few modification times

    def row(status: neuro_sdk.FileStatus) -> Row:
        mode = _TYPE_LETTERS.get(status.type, "?") + _PERMISSION_LETTERS.get(status.permission, "?")
        size = human_size(status.size) if human_readable else str(status.size)
        when = times.get(status.modification_time)
        if when is None:
            when = times[status.modification_time] = format_time(status.modification_time)
        return (mode, size, when, status.name)

    return row


def format_long_listing(
    statuses: Sequence[neuro_sdk.FileStatus], *, human_readable: bool
) -> RenderableType:
    """One row per entry: type and permission letters, size, modification time, name."""
    table = _long_table(())
    row = long_row_maker(human_readable=human_readable)
    for status in statuses:
        table.add_row(*row(status))
    return table


def print_long_rows(console: Console, rows: Sequence[Row]) -> None:
    """``format_long_listing``'s table, printed in chunks without rich laying out every cell."""
    print_rows(console, _long_table, rows)


def print_long_listing(
    console: Console, statuses: Sequence[neuro_sdk.FileStatus], *, human_readable: bool
) -> None:
    row = long_row_maker(human_readable=human_readable)
    print_long_rows(console, [row(status) for status in statuses])


@dataclass(frozen=True)
class TreeNode:
    status: neuro_sdk.FileStatus
    children: tuple["TreeNode", ...] = ()


def format_tree(
    root: URL, nodes: Sequence[TreeNode], *, sizes: bool, human_readable: bool
) -> RenderableType:
    lines = [str(root)]
    counts = {"dirs": 0, "files": 0}

    def label(status: neuro_sdk.FileStatus) -> str:
        if not sizes:
            return status.name
        size = human_size(status.size) if human_readable else str(status.size)
        return f"[{size:>6}]  {status.name}"

    def walk(children: Sequence[TreeNode], prefix: str) -> None:
        for index, node in enumerate(children):
            last = index == len(children) - 1
            lines.append(prefix + ("└── " if last else "├── ") + label(node.status))
            counts["dirs" if node.status.is_dir() else "files"] += 1
            walk(node.children, prefix + ("    " if last else "│   "))

    walk(nodes, "")
    lines.append("")
    lines.append(f"{counts['dirs']} directories, {counts['files']} files")
    return Text("\n".join(lines))


def format_disk_usage(usage: neuro_sdk.DiskUsageInfo, *, human_readable: bool) -> RenderableType:
    def size(value: int) -> str:
        return human_size(value) if human_readable else str(value)

    table = Table(box=None, show_edge=False)
    for column in ("Cluster", "Org", "Total", "Used", "Free", "Use%"):
        table.add_column(column, justify="left" if column in ("Cluster", "Org") else "right")
    percent = f"{100 * usage.used / usage.total:.0f}%" if usage.total else "-"
    table.add_row(
        usage.cluster_name,
        usage.org_name or "NO_ORG",
        size(usage.total),
        size(usage.used),
        size(usage.free),
        percent,
    )
    return table


def format_uris(uris: Iterable[URL]) -> RenderableType:
    return Text("\n".join(str(uri) for uri in uris))


def format_removed(event: neuro_sdk.StorageProgressDelete) -> str:
    kind = "directory" if event.is_dir else "file"
    return f"removed {kind} '{event.uri}'"


class TransferProgressBar(neuro_sdk.AbstractRecursiveFileProgress):
    """One rich bar for a whole copy: files done, bytes, speed and time left.

    The total grows as files start (a recursive copy does not know its size up front).
    """

    def __init__(self, console: Console) -> None:
        # Imported here: rich.progress (and rich.live, the spinners) takes milliseconds to
        # import, and only a copy draws a bar; `ls`, `tree` and `df` import this module too.
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID = self._progress.add_task("", total=0)
        self._files_started = 0
        self._files_done = 0
        self._current: dict[tuple[URL, URL], int] = {}
        self._console = console

    def __enter__(self) -> "TransferProgressBar":
        self._progress.start()
        self._describe()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def _describe(self) -> None:
        description = f"{self._files_done}/{self._files_started} files"
        self._progress.update(self._task, description=description)

    def start(self, data: neuro_sdk.StorageProgressStart) -> None:
        self._files_started += 1
        self._current[(data.src, data.dst)] = 0
        total = self._progress.tasks[0].total or 0
        self._progress.update(self._task, total=total + data.size)
        self._describe()

    def step(self, data: neuro_sdk.StorageProgressStep) -> None:
        key = (data.src, data.dst)
        delta = data.current - self._current.get(key, 0)
        self._current[key] = data.current
        self._progress.advance(self._task, delta)

    def complete(self, data: neuro_sdk.StorageProgressComplete) -> None:
        self._current.pop((data.src, data.dst), None)
        self._files_done += 1
        self._describe()

    def enter(self, data: neuro_sdk.StorageProgressEnterDir) -> None:
        pass

    def leave(self, data: neuro_sdk.StorageProgressLeaveDir) -> None:
        pass

    def fail(self, data: neuro_sdk.StorageProgressFail) -> None:
        self._progress.console.print(
            Group(Text(f"WARNING: {data.src} -> {data.dst}: {data.message}")), markup=False
        )
