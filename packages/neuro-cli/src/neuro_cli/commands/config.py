"""``neuro config``: the client's login state, clusters and orgs."""

# Annotations stay unevaluated: naming SDK classes in them must not import the SDK modules
# (and the HTTP stack) at start-up.
from __future__ import annotations

from pathlib import Path

import click

import neuro_sdk
from neuro_cli.commands.auth import login, login_headless, login_with_token, logout
from neuro_cli.errors import UserError
from neuro_cli.prompts import ask
from neuro_cli.root import Root
from neuro_cli.runner import async_command

NO_ORG = "NO_ORG"  # the literal users type for "work without an org"


@click.group()
def config() -> None:
    """Client configuration."""


@config.command()
@click.pass_obj
@async_command
async def show(root: Root) -> None:
    """Print current settings."""
    from neuro_cli.formatters.config import format_config

    async with root.client() as client:
        # Clusters and presets may have changed on the server since login.
        await client.config.fetch()
        quota = await client.users.get_quota()
        org_quota = await client.users.get_org_quota()
        root.print(format_config(client.config, quota, org_quota))


@config.command()
@click.pass_obj
@async_command
async def aliases(root: Root) -> None:
    """List the [alias] entries of the user config (see "neuro help aliases")."""
    from rich.table import Table

    from neuro_cli.alias import make_alias

    user_config = await root.factory.load_user_config()
    table = Table(box=None, show_header=True, pad_edge=False)
    table.add_column("ALIAS")
    table.add_column("DESCRIPTION")
    for name, definition in sorted(user_config.get("alias", {}).items()):
        table.add_row(name, make_alias(name, definition).get_short_help_str(80))
    root.print(table)


@config.command(name="show-token")
@click.pass_obj
@async_command
async def show_token(root: Root) -> None:
    """Print current authorization token."""
    async with root.client() as client:
        # soft_wrap: a token broken over lines is a token that cannot be pasted.
        root.print(await client.config.token(), soft_wrap=True)


@config.command(name="get-clusters")
@click.pass_obj
@async_command
async def get_clusters(root: Root) -> None:
    """List available clusters with their orgs and presets.

    The list is fetched from the server anew.
    """
    from neuro_cli.formatters.config import format_clusters

    async with root.client() as client:
        await client.config.fetch()
        config = client.config
        root.print(format_clusters(config.clusters.values(), config.cluster_name, config.org_name))


@config.command(name="switch-cluster")
@click.argument("cluster_name", required=False)
@click.pass_obj
@async_command
async def switch_cluster(root: Root, cluster_name: str | None) -> None:
    """Switch the active cluster.

    CLUSTER_NAME is the cluster to select; when it is omitted, the available clusters
    are listed and you are asked to choose one.
    """
    async with root.client() as client:
        await client.config.fetch()
        if cluster_name is None:
            if not root.stdin_is_tty:
                raise click.UsageError(
                    "Interactive mode is disabled for non-TTY mode, please specify the CLUSTER_NAME"
                )
            cluster_name = await _choose_cluster(root, client.config)
        elif cluster_name not in client.config.clusters:
            raise UserError(
                f"Cluster {cluster_name!r} is not available; "
                f"choose one of: {', '.join(client.config.clusters)}"
            )
        await client.config.switch_cluster(cluster_name)
        root.info(f"The current cluster is {cluster_name}")


async def _choose_cluster(root: Root, config: neuro_sdk.Config) -> str:
    from neuro_cli.formatters.config import format_clusters

    current = config.cluster_name
    while True:
        root.print(format_clusters(config.clusters.values(), current, config.org_name))
        answer = (await ask(f"Select cluster to switch [{current}]: ")).strip() or current
        if answer in config.clusters:
            return answer
        root.print(f"Cluster {answer!r} doesn't exist, please try again.")


@config.command(name="switch-org")
@click.argument("org_name")
@click.pass_obj
@async_command
async def switch_org(root: Root, org_name: str) -> None:
    """Switch the active organization.

    ORG_NAME is the organization to select; use the literal NO_ORG to work on the
    current cluster directly rather than on behalf of an org.
    """
    from neuro_cli.formatters.config import org_label

    org = None if org_name == NO_ORG else org_name
    async with root.client() as client:
        await client.config.fetch()
        cluster = client.config.clusters[client.config.cluster_name]
        if org not in cluster.orgs:
            available = ", ".join(NO_ORG if name is None else name for name in cluster.orgs)
            raise UserError(
                f"Org {org_name!r} is not available on cluster {cluster.name!r}; "
                f"choose one of: {available}"
            )
        await client.config.switch_org(org)
        root.info(f"The current org is {org_label(org)}")


@config.command(name="docker")
@click.option(
    "--docker-config",
    metavar="PATH",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DOCKER_CONFIG",
    help="The Docker client's configuration folder (default: $DOCKER_CONFIG or ~/.docker).",
)
@click.pass_obj
@async_command
async def docker(root: Root, docker_config: Path | None) -> None:
    """Configure the local docker client for the platform's registry.

    Docker then asks 'docker-credential-neuro' (installed with this CLI) for the
    current token whenever it talks to the registry: 'docker push' and 'docker pull'
    of image names on the registry host work without 'docker login'.
    """
    from neuro_cli.docker_config import add_credential_helper
    from neuro_cli.docker_credential_helper import registry_hosts

    folder = (docker_config or Path.home() / ".docker").expanduser()
    async with root.client() as client:
        hosts = registry_hosts(client.config)
    path = add_credential_helper(folder, hosts, helper="neuro")
    root.info(f"Configuration file {path} updated.")
    root.info(f"You can use the docker client with the neuro registry: {', '.join(hosts)}")


config.add_command(login)
config.add_command(login_headless)
config.add_command(login_with_token)
config.add_command(logout)
