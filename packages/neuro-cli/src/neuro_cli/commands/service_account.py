"""``neuro service-account``: tokens for automation, revoked by removing the account."""

import click

from neuro_cli.root import Root
from neuro_cli.runner import async_command


@click.group("service-account")
def service_account() -> None:
    """Service accounts: tokens for CI and other automation."""


@service_account.command()
@click.option("--name", help="A name unique among your service accounts.")
@click.option("--default-cluster", help="The cluster the token selects (default: current).")
@click.pass_obj
@async_command
async def create(root: Root, name: str | None, default_cluster: str | None) -> None:
    """Create a service account and print its token (shown this once only).

    Use the token as the NEURO_PASSED_CONFIG environment variable.
    """
    from neuro_cli.formatters.resources import TOKEN_NOTICE, format_service_account

    async with root.client() as client:
        account, token = await client.service_accounts.create(name, default_cluster)
    root.print(format_service_account(account))
    root.info(TOKEN_NOTICE)
    # One unwrapped line, whatever the terminal width: it is meant to be copied whole.
    root.print(token, soft_wrap=True)


@service_account.command("ls")
@click.pass_obj
@async_command
async def ls(root: Root) -> None:
    """List your service accounts."""
    from neuro_cli.formatters.resources import format_service_accounts

    async with root.client() as client, client.service_accounts.list() as accounts:
        root.print(format_service_accounts([a async for a in accounts]))


@service_account.command()
@click.argument("id_or_name")
@click.pass_obj
@async_command
async def get(root: Root, id_or_name: str) -> None:
    """Show service account ID_OR_NAME."""
    from neuro_cli.formatters.resources import format_service_account

    async with root.client() as client:
        root.print(format_service_account(await client.service_accounts.get(id_or_name)))


@service_account.command()
@click.argument("ids_or_names", nargs=-1, required=True)
@click.pass_obj
@async_command
async def rm(root: Root, ids_or_names: tuple[str, ...]) -> None:
    """Remove service accounts; their tokens stop working at once."""
    async with root.client() as client:
        for item in ids_or_names:
            await client.service_accounts.rm(item)
            root.info(f"Service account {item} removed")
