"""``neuro secret``: add, list and remove secrets; values never come back."""

from pathlib import Path

import click

from neuro_cli.errors import UserError
from neuro_cli.orgs import chosen_org
from neuro_cli.resource_uris import uri_formatter
from neuro_cli.root import Root
from neuro_cli.runner import async_command


@click.group()
def secret() -> None:
    """Secrets: values jobs get as environment variables or files."""


@secret.command("ls")
@click.option("--cluster", help="Cluster to look in (default: the current one).")
@click.option("--full-uri", is_flag=True, help="Print URIs in full.")
@click.pass_obj
@async_command
async def ls(root: Root, cluster: str | None, full_uri: bool) -> None:
    """List the secrets you can use."""
    from neuro_cli.formatters.resources import format_secrets

    async with root.client() as client, client.secrets.list(cluster) as secrets:
        uri = uri_formatter(client.parse, full=full_uri)
        root.print(format_secrets([s async for s in secrets], uri))


@secret.command()
@click.argument("key")
@click.argument("value")
@click.option("--cluster", help="Cluster to create the secret in (default: the current one).")
@click.option("--org", help="The org of the secret (default: the current one).")
@click.pass_obj
@async_command
async def add(root: Root, key: str, value: str, cluster: str | None, org: str | None) -> None:
    """Add secret KEY with VALUE, or with the contents of a file given as @FILE.

    Examples:

        neuro secret add DB_PASSWORD 'p4ssw0rd'

        neuro secret add SSH_KEY @~/.ssh/id_rsa
    """
    async with root.client() as client:
        await client.secrets.add(
            key, _value(value), cluster, chosen_org(org, client.config.org_name)
        )
    root.info(f"Secret {key} added")


@secret.command()
@click.argument("key")
@click.option("--cluster", help="Cluster to look in (default: the current one).")
@click.option("--org", help="The org of the secret (default: the current one).")
@click.pass_obj
@async_command
async def rm(root: Root, key: str, cluster: str | None, org: str | None) -> None:
    """Remove secret KEY."""
    async with root.client() as client:
        await client.secrets.rm(key, cluster, chosen_org(org, client.config.org_name))
    root.info(f"Secret {key} removed")


def _value(text: str) -> bytes:
    if not text.startswith("@"):
        return text.encode()
    path = Path(text[1:]).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UserError(f"Cannot read {path}: {exc.strerror}") from exc
