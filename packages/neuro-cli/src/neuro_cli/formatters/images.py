"""Image lists, tag tables and push/pull progress."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType

from rich import box
from rich.console import Console, RenderableType
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

import neuro_sdk

ImageFormatter = Callable[[neuro_sdk.RemoteImage], str]
# Steps that mean "this layer is done" without a byte count.
_DONE_STATUSES = ("Layer already exists", "Download complete", "Pushed", "Pull complete")


def format_size(size: int) -> str:
    """Decimal units, as Docker shows image sizes."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def short_image_formatter(config: neuro_sdk.Config) -> ImageFormatter:
    """``image:name`` for the user's own images in the current cluster and org,
    ``image:/owner/name`` for others' there, the full URI otherwise."""

    def format_image(image: neuro_sdk.RemoteImage) -> str:
        if image.cluster_name != config.cluster_name or image.org_name != config.org_name:
            return str(image)
        tag = f":{image.tag}" if image.tag else ""
        if image.owner == config.username:
            return f"image:{image.name}{tag}"
        org = f"{image.org_name}/" if image.org_name else ""
        return f"image:/{org}{image.owner}/{image.name}{tag}"

    return format_image


def images_table(
    images: Iterable[neuro_sdk.RemoteImage], fmt: ImageFormatter, *, long: bool, quiet: bool
) -> RenderableType:
    if quiet:
        grid = Table.grid()
        grid.add_column()
        for image in images:
            grid.add_row(fmt(image))
        return grid
    table = Table(box=box.SIMPLE_HEAVY)
    table.add_column("Neuro URL", style="bold")
    if long:
        table.add_column("Docker URL")
    for image in images:
        row = [fmt(image)]
        if long:
            row.append(image.as_docker_url(with_scheme=True))
        table.add_row(*row)
    return table


def tags_table(tags: Iterable[neuro_sdk.Tag], *, long: bool) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAVY)
    table.add_column("Tag", style="bold")
    if long:
        table.add_column("Size")
    for tag in tags:
        if long:
            table.add_row(tag.name, format_size(tag.size or 0))
        else:
            table.add_row(tag.name)
    return table


class DockerImageProgress(neuro_sdk.AbstractDockerImageProgress):
    """Push/pull progress: bars on a terminal, plain lines in a pipe, nothing with -q."""

    @staticmethod
    def create(console: Console, *, quiet: bool) -> DockerImageProgress:
        if quiet:
            return DockerImageProgress()
        if console.is_terminal:
            return BarsImageProgress(console)
        return LinesImageProgress(console)

    def pull(self, data: neuro_sdk.ImageProgressPull) -> None:
        pass

    def push(self, data: neuro_sdk.ImageProgressPush) -> None:
        pass

    def step(self, data: neuro_sdk.ImageProgressStep) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> DockerImageProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.close()


class LinesImageProgress(DockerImageProgress):
    """For a log or a pipe: the images involved, then one line per finished layer."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._done: set[str] = set()

    def push(self, data: neuro_sdk.ImageProgressPush) -> None:
        self._console.print(f"Pushing image {data.src} => {data.dst}", markup=False)

    def pull(self, data: neuro_sdk.ImageProgressPull) -> None:
        self._console.print(f"Pulling image {data.src} => {data.dst}", markup=False)

    def step(self, data: neuro_sdk.ImageProgressStep) -> None:
        if data.status in _DONE_STATUSES and data.layer_id not in self._done:
            self._done.add(data.layer_id)
            self._console.print(f"{data.layer_id}: {data.status}", markup=False)


class BarsImageProgress(DockerImageProgress):
    """For a terminal: a bar per layer."""

    def __init__(self, console: Console) -> None:
        self._tasks: dict[str, TaskID] = {}
        self._progress = Progress(
            TextColumn("{task.fields[layer]}"),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("[progress.percentage]{task.percentage:>3.0f}%"),
            DownloadColumn(),
            console=console,
        )
        self._progress.start()

    def push(self, data: neuro_sdk.ImageProgressPush) -> None:
        self._progress.log(
            Text.assemble("Pushing image ", (str(data.src), "b"), " => ", (str(data.dst), "b"))
        )

    def pull(self, data: neuro_sdk.ImageProgressPull) -> None:
        self._progress.log(
            Text.assemble("Pulling image ", (str(data.src), "b"), " => ", (str(data.dst), "b"))
        )

    def step(self, data: neuro_sdk.ImageProgressStep) -> None:
        if data.status in _DONE_STATUSES:
            current: float | None = 100.0
            total: float | None = 100.0
        else:
            current, total = data.current, data.total
        task = self._tasks.get(data.layer_id)
        if task is None:
            self._tasks[data.layer_id] = self._progress.add_task(
                data.status, layer=data.layer_id, completed=int(current or 0), total=total or 100
            )
        else:
            self._progress.update(task, description=data.status, completed=current, total=total)

    def close(self) -> None:
        self._progress.stop()
