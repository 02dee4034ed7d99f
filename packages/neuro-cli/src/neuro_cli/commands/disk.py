"""``neuro disk``: persistent disks that outlive jobs."""

import re
from datetime import timedelta

import click

from neuro_cli.orgs import chosen_org
from neuro_cli.resource_uris import uri_formatter
from neuro_cli.root import Root
from neuro_cli.runner import async_command

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)b?$", re.IGNORECASE)
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_size(text: str) -> int:
    """``10G`` is 10 * 10**9 bytes, ``10Gi`` 10 * 2**30; a bare number is bytes."""
    match = _SIZE.match(text.strip())
    if match is None:
        raise click.BadParameter(f"{text!r} is not a size like 500M, 10G or 2Gi")
    number, prefix, binary = match.groups()
    base = 1024 if binary else 1000
    power = "kmgtp".index(prefix.lower()) + 1 if prefix else 0
    return int(float(number) * base**power)


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if match is None or not any(match.groups()):
        raise click.BadParameter(f"{text!r} is not a duration like 1d, 12h or 1h30m")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


@click.group()
def disk() -> None:
    """Persistent disks: storage a job mounts and the next job finds again."""


@disk.command()
@click.argument("storage")
@click.option("--name", help="A name unique among your disks.")
@click.option(
    "--timeout-unused",
    help="Delete the disk after it has not been used this long, e.g. 1d or 12h30m.",
)
@click.option("--cluster", help="Cluster to create the disk in (default: the current one).")
@click.option("--org", help="The org of the disk (default: the current one).")
@click.pass_obj
@async_command
async def create(
    root: Root,
    storage: str,
    name: str | None,
    timeout_unused: str | None,
    cluster: str | None,
    org: str | None,
) -> None:
    """Create a disk of STORAGE size (e.g. 10G, 500Mi).

    Examples:

        neuro disk create 10G --name data

        neuro disk create 500M --timeout-unused 1d
    """
    from neuro_cli.formatters.resources import format_disk

    size = parse_size(storage)
    life_span = parse_duration(timeout_unused) if timeout_unused else None
    async with root.client() as client:
        org_name = chosen_org(org, client.config.org_name)
        created = await client.disks.create(size, life_span, name, cluster, org_name)
        root.print(format_disk(created, uri_formatter(client.parse, full=False)))


@disk.command("ls")
@click.option("--cluster", help="Cluster to look in (default: the current one).")
@click.option("--full-uri", is_flag=True, help="Print URIs in full.")
@click.option("--long-format", is_flag=True, help="Add the URI and dates of each disk.")
@click.pass_obj
@async_command
async def ls(root: Root, cluster: str | None, full_uri: bool, long_format: bool) -> None:
    """List your disks (and those shared with you)."""
    from neuro_cli.formatters.resources import format_disks

    async with root.client() as client, client.disks.list(cluster) as disks:
        uri = uri_formatter(client.parse, full=full_uri)
        root.print(format_disks([d async for d in disks], long=long_format, uri=uri))


@disk.command()
@click.argument("disk_id_or_name")
@click.option("--cluster", help="Cluster to look in (default: the current one).")
@click.option("--full-uri", is_flag=True, help="Print the URI in full.")
@click.pass_obj
@async_command
async def get(root: Root, disk_id_or_name: str, cluster: str | None, full_uri: bool) -> None:
    """Show disk DISK_ID_OR_NAME."""
    from neuro_cli.formatters.resources import format_disk

    async with root.client() as client:
        found = await client.disks.get(disk_id_or_name, cluster)
        root.print(format_disk(found, uri_formatter(client.parse, full=full_uri)))


@disk.command()
@click.argument("disk_ids_or_names", nargs=-1, required=True)
@click.option("--cluster", help="Cluster to look in (default: the current one).")
@click.pass_obj
@async_command
async def rm(root: Root, disk_ids_or_names: tuple[str, ...], cluster: str | None) -> None:
    """Remove disks, by id or name."""
    async with root.client() as client:
        for item in disk_ids_or_names:
            await client.disks.rm(item, cluster)
            root.info(f"Disk {item} removed")
