"""``neuro acl``: sharing resources and managing roles; ``neuro share`` is ``acl grant``.

URIs may be short (``storage:folder``, ``job:id``, ``image:name``) and are made full
against the current cluster, org and user before they are sent (see ``resource_uris``).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

import neuro_sdk
from neuro_cli.errors import UserError
from neuro_cli.resource_uris import SHARE_SCHEMES, resolve_resource_uri, uri_formatter
from neuro_cli.root import Root
from neuro_cli.runner import async_command

ACTION_CHOICE = click.Choice([a.value for a in neuro_sdk.Action], case_sensitive=False)


@click.group()
def acl() -> None:
    """Access control: share resources with other users and manage roles."""


@contextmanager
def _explained_refusal() -> Iterator[None]:
    """Turn a 403's ``{"missing": [...]}`` body into words."""
    try:
        yield
    except neuro_sdk.AuthorizationError as exc:
        try:
            missing = json.loads(str(exc))["missing"]
            needed = ", ".join(f"{m['action']} on {m['uri']}" for m in missing)
        except (ValueError, KeyError, TypeError):
            raise exc from None
        raise UserError(f"Permission denied: you need {needed}") from exc


async def _grant(root: Root, uri: str, user: str, action: str) -> None:
    from neuro_cli.formatters.acl import format_granted

    async with root.client() as client:
        permission = neuro_sdk.Permission(
            resolve_resource_uri(uri, client.parse), neuro_sdk.Action(action.lower())
        )
        with _explained_refusal():
            await client.users.share(user, permission)
    root.info(format_granted(user, permission))


@acl.command()
@click.argument("uri")
@click.argument("user")
@click.argument("action", type=ACTION_CHOICE)
@click.pass_obj
@async_command
async def grant(root: Root, uri: str, user: str, action: str) -> None:
    """Share resource URI with USER (a user or a role) at level ACTION.

    Examples:

        neuro acl grant storage:datasets bob read

        neuro acl grant role://alice/team bob read    # makes bob a member of alice/team
    """
    await _grant(root, uri, user, action)


@click.command()
@click.argument("uri")
@click.argument("user")
@click.argument("action", type=ACTION_CHOICE)
@click.pass_obj
@async_command
async def share(root: Root, uri: str, user: str, action: str) -> None:
    """Share resource URI with USER at level ACTION (alias of 'neuro acl grant').

    Example:

        neuro share storage:results bob write
    """
    await _grant(root, uri, user, action)


@acl.command()
@click.argument("uri")
@click.argument("user")
@click.pass_obj
@async_command
async def revoke(root: Root, uri: str, user: str) -> None:
    """Take back every permission USER was given on exactly URI.

    Example:

        neuro acl revoke storage:datasets bob
    """
    from neuro_cli.formatters.acl import format_revoked

    async with root.client() as client:
        full_uri = resolve_resource_uri(uri, client.parse)
        with _explained_refusal():
            await client.users.revoke(user, full_uri)
    root.info(format_revoked(user, full_uri))


@acl.command(name="ls")
@click.argument("uri", required=False)
@click.option(
    "-s",
    "--scheme",
    type=click.Choice(SHARE_SCHEMES),
    help="Only resources of this kind.",
)
@click.option("--shared", is_flag=True, help="What you have shared with others instead.")
@click.option("-u", "user", help="Whose permissions (default: yours; needs manage on the role).")
@click.option("--full-uri", "print_full", is_flag=True, help="Print URIs in full.")
@click.pass_obj
@async_command
async def list_permissions(
    root: Root,
    uri: str | None,
    scheme: str | None,
    shared: bool,
    user: str | None,
    print_full: bool,
) -> None:
    """List the resources you can access, or with --shared those you shared.

    URI narrows the list to that resource and what is below it.

    Examples:

        neuro acl ls

        neuro acl ls --scheme storage

        neuro acl ls --shared storage:datasets
    """
    from neuro_cli.formatters.acl import format_permissions, format_shares

    if uri is not None and scheme is not None:
        raise click.UsageError("Give either URI or --scheme, not both")
    async with root.client() as client:
        name = user or client.config.username
        full_uri = resolve_resource_uri(uri, client.parse) if uri is not None else None
        if shared:
            shares = await client.users.get_shares(name, scheme, uri=full_uri)
            if shares:
                root.print(format_shares(shares, uri_formatter(client.parse, full=print_full)))
        else:
            permissions = await client.users.get_acl(name, scheme, uri=full_uri)
            if permissions:
                formatter = uri_formatter(client.parse, full=print_full)
                root.print(format_permissions(permissions, formatter))


@acl.command(name="list-roles")
@click.argument("user", required=False)
@click.option("-u", "user_option", metavar="USER", help="The same as USER (22.x's form).")
@click.pass_obj
@async_command
async def list_roles(root: Root, user: str | None, user_option: str | None) -> None:
    """List the roles below USER (default: you), e.g. alice/team."""
    from neuro_cli.formatters.acl import format_roles

    if user is not None and user_option is not None:
        raise click.UsageError("Give USER or -u USER, not both")
    user = user or user_option

    async with root.client() as client:
        roles = await client.users.get_subroles(user or client.config.username)
    if roles:
        root.print(format_roles(roles))


@acl.command(name="add-role")
@click.argument("role_name")
@click.pass_obj
@async_command
async def add_role(root: Root, role_name: str) -> None:
    """Create role ROLE_NAME; yours start with your user name, e.g. alice/team.

    Give it permissions with 'neuro acl grant URI ROLE_NAME ACTION' and members with
    'neuro acl grant role://ROLE_NAME USER read'.
    """
    async with root.client() as client:
        with _explained_refusal():
            await client.users.add(role_name)
    root.info(f"Role {role_name} created")


@acl.command(name="remove-role")
@click.argument("role_name")
@click.pass_obj
@async_command
async def remove_role(root: Root, role_name: str) -> None:
    """Remove role ROLE_NAME, its subroles and everything shared with them."""
    async with root.client() as client:
        with _explained_refusal():
            await client.users.remove(role_name)
    root.info(f"Role {role_name} removed")
