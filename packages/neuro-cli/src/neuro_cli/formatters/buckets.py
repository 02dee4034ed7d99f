"""Output of ``neuro blob``: buckets, blob listings, usage and bucket credentials."""

from collections.abc import Callable, Iterable, Mapping

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from yarl import URL

import neuro_sdk
from neuro_cli.formatters.storage import human_size
from neuro_cli.formatters.times import format_datetime

UriFormatter = Callable[[URL], str]
NO_ORG = "<no org>"


def _when(entry: neuro_sdk.BucketEntry) -> str:
    moment = entry.modified_at or entry.created_at
    return format_datetime(moment)


def _table(*columns: str) -> Table:
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, no_wrap=True)
    return table


def format_blob_listing(
    entries: Iterable[neuro_sdk.BucketEntry | neuro_sdk.Bucket],
    uri: UriFormatter,
    *,
    long: bool,
    human_readable: bool,
) -> RenderableType:
    """One URI per line; with ``long``: type (bucket, dir, obj), size, time, URI."""
    if not long:
        return Text("\n".join(uri(entry.uri) for entry in entries))
    table = Table.grid(padding=(0, 2))
    table.add_column()
    table.add_column(justify="right")
    table.add_column()
    table.add_column()
    for entry in entries:
        if isinstance(entry, neuro_sdk.Bucket):
            when = format_datetime(entry.created_at)
            table.add_row("bucket", "", when, uri(entry.uri))
            continue
        size = human_size(entry.size) if human_readable else str(entry.size)
        kind = "dir" if entry.is_dir() else "obj"
        table.add_row(kind, size, _when(entry), uri(entry.uri))
    return table


def format_buckets(
    buckets: Iterable[neuro_sdk.Bucket], uri: UriFormatter, *, long: bool
) -> RenderableType:
    columns = ["Id", "Name", "Provider", "Uri"]
    if long:
        columns += ["Org name", "Created at", "Public"]
    table = _table(*columns)
    for bucket in sorted(buckets, key=lambda b: b.id):
        row = [
            bucket.id,
            bucket.name or "",
            bucket.provider.value + (" (imported)" if bucket.imported else ""),
            uri(bucket.uri),
        ]
        if long:
            row += [
                bucket.org_name or NO_ORG,
                format_datetime(bucket.created_at),
                "yes" if bucket.public else "no",
            ]
        table.add_row(*row)
    return table


def format_bucket(bucket: neuro_sdk.Bucket, uri: UriFormatter) -> RenderableType:
    table = Table(box=None, show_header=False, show_edge=False, pad_edge=False)
    table.add_column()
    table.add_column(style="bold")
    table.add_row("Id", bucket.id)
    table.add_row("Uri", uri(bucket.uri))
    if bucket.name:
        table.add_row("Name", bucket.name)
    table.add_row("Org name", bucket.org_name or NO_ORG)
    table.add_row("Created at", format_datetime(bucket.created_at))
    table.add_row("Provider", bucket.provider.value)
    table.add_row("Imported", str(bucket.imported))
    table.add_row("Public", str(bucket.public))
    return table


def format_usage(label: str, usage: neuro_sdk.BucketUsage) -> str:
    return (
        f"Bucket {label} disk usage:\n"
        f"Total size: {human_size(usage.total_bytes)}\n"
        f"Objects count: {usage.object_count}"
    )


def format_credentials_list(
    credentials: Iterable[neuro_sdk.PersistentBucketCredentials],
    bucket_names: Mapping[str, str],
) -> RenderableType:
    table = _table("Id", "Name", "Buckets", "Read-only")
    for item in sorted(credentials, key=lambda c: c.id):
        names = ", ".join(bucket_names.get(c.bucket_id, c.bucket_id) for c in item.credentials)
        table.add_row(item.id, item.name or "", names, "yes" if item.read_only else "no")
    return table


def format_credentials(
    item: neuro_sdk.PersistentBucketCredentials, bucket_names: Mapping[str, str]
) -> RenderableType:
    table = Table(box=None, show_header=False, show_edge=False, pad_edge=False)
    table.add_column()
    table.add_column(style="bold")
    table.add_row("Id", item.id)
    if item.name:
        table.add_row("Name", item.name)
    table.add_row("Read-only", str(item.read_only))
    parts: list[RenderableType] = [table]
    for bucket_credentials in item.credentials:
        name = bucket_names.get(bucket_credentials.bucket_id, bucket_credentials.bucket_id)
        lines = [f"Credentials for bucket '{name}':"]
        raw = sorted(bucket_credentials.credentials.items())
        lines += [f"  {key}: {value}" for key, value in raw]
        parts.append(Text("\n".join(lines)))
    return Group(*parts)
