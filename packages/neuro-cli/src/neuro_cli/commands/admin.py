"""``neuro admin``: cluster users, orgs, org users and org clusters, with their roles, quotas
and credits (docs/protocol.md §2.7), as the original 22.7.1 CLI has them.

Clusters and orgs of a self-hosted platform come from the server's settings: the server
refuses to create or drop them, and says so in one line. What the original does with a
hosted cloud (provisioning clusters, node pools, resource presets) and projects (not in the
22.6 SDK) is not here (see docs/compatibility.md).
"""

# Annotations stay unevaluated: naming SDK classes in them must not import the SDK modules.
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import click

import neuro_sdk
from neuro_cli.errors import UserError
from neuro_cli.prompts import ask
from neuro_cli.root import Root
from neuro_cli.runner import async_command

if TYPE_CHECKING:
    from rich.text import Text

UNLIMITED = "unlimited"
CLUSTER_ROLES = ["admin", "manager", "member", "user"]
ORG_ROLES = ["admin", "manager", "user"]
CREDITS_HELP = "Credits amount to set (`unlimited' stands for no limit)"
JOBS_HELP = "Maximum running jobs quota (`unlimited' stands for no limit)"
ORG_HELP = "org name for org-cluster users"


@click.group()
def admin() -> None:
    """Cluster administration commands."""


def _parse_finite_decimal(value: str) -> Decimal:
    try:
        result = Decimal(value)
    except (ValueError, InvalidOperation):
        result = Decimal("NaN")
    if not result.is_finite():
        raise click.BadParameter(f"{value} is not valid decimal number")
    return result


def _credits(value: str) -> Decimal | None:
    return None if value == UNLIMITED else _parse_finite_decimal(value)


def _jobs(value: str) -> int | None:
    if value == UNLIMITED:
        return None
    try:
        result = int(value, 10)
    except ValueError:
        result = -1
    if result < 0:
        raise click.BadParameter("jobs quota should be non-negative integer")
    return result


def _text(message: str) -> Text:
    """Plain text (no markup: names are printed as they are); rich is imported only when a
    command prints, so `neuro --help` stays light."""
    from rich.text import Text

    return Text(message)


def _as_member(org: str | None) -> str:
    return f"as member of org {org} " if org is not None else ""


def _user_on_cluster(user_name: str, org: str | None, cluster_name: str) -> str:
    return f"{user_name} {_as_member(org)}on cluster {cluster_name}"


# Options several commands share (click makes a fresh parameter each time one is applied).
_force_option = click.option("--force", is_flag=True, default=False, help="Skip prompt")
_org_option = click.option("--org", metavar="ORG", default=None, help=ORG_HELP)
_set_jobs_option = click.option("-j", "--jobs", metavar="AMOUNT", required=True, help=JOBS_HELP)
_set_credits_option = click.option(
    "-c", "--credits", metavar="AMOUNT", required=True, help=CREDITS_HELP
)
_add_credits_option = click.option(
    "-c", "--credits", metavar="AMOUNT", required=True, help="Credits amount to add"
)


def _print_limits(
    root: Root,
    title: str,
    quota: neuro_sdk._Quota | None = None,
    balance: neuro_sdk._Balance | None = None,
) -> None:
    """A title line, then whichever of the jobs quota and the credits balance are given."""
    from neuro_cli.formatters.admin import format_balance, format_jobs_quota

    root.print(_text(title))
    if quota is not None:
        root.print(format_jobs_quota(quota))
    if balance is not None:
        root.print(format_balance(balance))


# -- clusters ------------------------------------------------------------------------------


@admin.command("get-clusters")
@click.pass_obj
@async_command
async def get_clusters(root: Root) -> None:
    """Print the list of available clusters."""
    from neuro_cli.formatters.admin import format_clusters

    async with root.client() as client:
        root.print(format_clusters(await client._admin.list_clusters()))


@admin.command("update-cluster")
@click.argument("cluster_name")
@click.option("--default-credits", metavar="AMOUNT", default=UNLIMITED, show_default=True)
@click.option("--default-jobs", metavar="AMOUNT", default=UNLIMITED, show_default=True)
@click.option("--default-role", type=click.Choice(CLUSTER_ROLES), default="user", show_default=True)
@click.pass_obj
@async_command
async def update_cluster(
    root: Root, cluster_name: str, default_credits: str, default_jobs: str, default_role: str
) -> None:
    """Update a cluster."""
    cluster = neuro_sdk._Cluster(
        name=cluster_name,
        default_credits=_credits(default_credits),
        default_quota=neuro_sdk._Quota(_jobs(default_jobs)),
        default_role=neuro_sdk._ClusterUserRoleType(default_role),
    )
    async with root.client() as client:
        await client._admin.update_cluster(cluster)
    root.info(f"Cluster {cluster_name} successfully updated")


@admin.command("remove-cluster")
@_force_option
@click.argument("cluster_name")
@click.pass_obj
@async_command
async def remove_cluster(root: Root, cluster_name: str, force: bool) -> None:
    """Drop a cluster

    Completely removes cluster from the system.
    """
    question = f"Are you sure that you want to drop the cluster {cluster_name!r} (y/n)?"
    if not force and not await _confirm(question):
        return
    async with root.client() as client:
        await client._admin.delete_cluster(cluster_name)
    root.info(f"Cluster {cluster_name} was removed")


async def _confirm(question: str) -> bool:
    return (await ask(question + " ")).strip() == "y"


# -- cluster users -------------------------------------------------------------------------


@admin.command("get-cluster-users")
@_org_option
@click.argument("cluster_name", required=False)
@click.pass_obj
@async_command
async def get_cluster_users(root: Root, org: str | None, cluster_name: str | None) -> None:
    """List users in specified cluster"""
    from neuro_cli.formatters.admin import format_cluster_users

    async with root.client() as client:
        users = await client._admin.list_cluster_users(
            cluster_name or client.config.cluster_name, with_user_info=True, org_name=org
        )
    root.print(format_cluster_users(users))


@admin.command("add-cluster-user")
@click.argument("cluster_name")
@click.argument("user_name")
@click.argument(
    "role", required=False, default="user", metavar="[ROLE]", type=click.Choice(CLUSTER_ROLES)
)
@_org_option
@click.option("-c", "--credits", metavar="AMOUNT", default=None, help=CREDITS_HELP)
@click.option("-j", "--jobs", metavar="AMOUNT", default=None, help=JOBS_HELP)
@click.pass_obj
@async_command
async def add_cluster_user(
    root: Root,
    cluster_name: str,
    user_name: str,
    role: str,
    org: str | None,
    credits: str | None,
    jobs: str | None,
) -> None:
    """Add user access to specified cluster.

    The command supports one of 4 user roles: admin, manager, member or user.
    """
    # Without -c/-j a user gets the defaults of the cluster (or org).
    balance = None if credits is None else neuro_sdk._Balance(credits=_credits(credits))
    quota = None if jobs is None else neuro_sdk._Quota(_jobs(jobs))
    async with root.client() as client:
        user = await client._admin.create_cluster_user(
            cluster_name,
            user_name,
            neuro_sdk._ClusterUserRoleType(role),
            quota=quota,
            balance=balance,
            org_name=org,
        )
    if not root.quiet:
        title = f"Added {user.user_name} to cluster {cluster_name} as {_as_member(org)}{user.role}."
        _print_limits(root, f"{title} Quotas set:", user.quota, user.balance)


@admin.command("remove-cluster-user")
@click.argument("cluster_name")
@click.argument("user_name")
@_org_option
@click.pass_obj
@async_command
async def remove_cluster_user(
    root: Root, cluster_name: str, user_name: str, org: str | None
) -> None:
    """Remove user access from the cluster."""
    async with root.client() as client:
        await client._admin.delete_cluster_user(cluster_name, user_name, org_name=org)
    root.info(_text(f"Removed {user_name} {_as_member(org)}from cluster {cluster_name}"))


@admin.command("get-user-quota")
@click.argument("cluster_name")
@click.argument("user_name")
@_org_option
@click.pass_obj
@async_command
async def get_user_quota(root: Root, cluster_name: str, user_name: str, org: str | None) -> None:
    """Get info about user quota in given cluster"""
    async with root.client() as client:
        user = await client._admin.get_cluster_user(cluster_name, user_name, org_name=org)
    who = _user_on_cluster(user.user_name, org, cluster_name)
    _print_limits(root, f"Quota and balance for {who}:", user.quota, user.balance)


@admin.command("set-user-quota")
@click.argument("cluster_name")
@click.argument("user_name")
@_set_jobs_option
@_org_option
@click.pass_obj
@async_command
async def set_user_quota(
    root: Root, cluster_name: str, user_name: str, jobs: str, org: str | None
) -> None:
    """Set user quota to given values"""
    quota = neuro_sdk._Quota(_jobs(jobs))
    async with root.client() as client:
        user = await client._admin.update_cluster_user_quota(
            cluster_name, user_name, quota, org_name=org
        )
    who = _user_on_cluster(user.user_name, org, cluster_name)
    _print_limits(root, f"New quotas for {who}:", quota=user.quota)


@admin.command("set-user-credits")
@click.argument("cluster_name")
@click.argument("user_name")
@_set_credits_option
@_org_option
@click.pass_obj
@async_command
async def set_user_credits(
    root: Root, cluster_name: str, user_name: str, credits: str, org: str | None
) -> None:
    """Set user credits to given value"""
    amount = _credits(credits)
    async with root.client() as client:
        user = await client._admin.update_cluster_user_balance(
            cluster_name, user_name, amount, org_name=org
        )
    who = _user_on_cluster(user.user_name, org, cluster_name)
    _print_limits(root, f"New credits for {who}:", balance=user.balance)


@admin.command("add-user-credits")
@click.argument("cluster_name")
@click.argument("user_name")
@_add_credits_option
@_org_option
@click.pass_obj
@async_command
async def add_user_credits(
    root: Root, cluster_name: str, user_name: str, credits: str, org: str | None
) -> None:
    """Add given values to user quota"""
    delta = _parse_finite_decimal(credits)
    async with root.client() as client:
        user = await client._admin.update_cluster_user_balance_by_delta(
            cluster_name, user_name, delta, org_name=org
        )
    who = _user_on_cluster(user.user_name, org, cluster_name)
    _print_limits(root, f"New credits for {who}:", balance=user.balance)


# -- orgs and org users --------------------------------------------------------------------


@admin.command("get-orgs")
@click.pass_obj
@async_command
async def get_orgs(root: Root) -> None:
    """Print the list of available orgs."""
    from neuro_cli.formatters.admin import format_orgs

    async with root.client() as client:
        root.print(format_orgs(await client._admin.list_orgs()))


@admin.command("add-org")
@click.argument("org_name")
@click.option("--skip-default-tenants", is_flag=True, default=False, hidden=True)
@click.pass_obj
@async_command
async def add_org(root: Root, org_name: str, skip_default_tenants: bool) -> None:
    """Create a new org."""
    async with root.client() as client:
        await client._admin.create_org(org_name, skip_auto_add_to_clusters=skip_default_tenants)


@admin.command("remove-org")
@_force_option
@click.argument("org_name")
@click.pass_obj
@async_command
async def remove_org(root: Root, org_name: str, force: bool) -> None:
    """Drop a org

    Completely removes org from the system.
    """
    async with root.client() as client:
        if not any(o.name == org_name for o in await client._admin.list_orgs()):
            raise UserError(f"Organization '{org_name}' is not found.")
        if force or await _confirm(f"Are you sure that you want to drop org '{org_name}' (y/n)?"):
            await client._admin.delete_org(org_name)


@admin.command("get-org-users")
@click.argument("org_name")
@click.pass_obj
@async_command
async def get_org_users(root: Root, org_name: str) -> None:
    """List users in specified org"""
    from neuro_cli.formatters.admin import format_org_users

    async with root.client() as client:
        users = await client._admin.list_org_users(org_name, with_user_info=True)
    root.print(format_org_users(users))


@admin.command("add-org-user")
@click.argument("org_name")
@click.argument("user_name")
@click.argument(
    "role", required=False, default="user", metavar="[ROLE]", type=click.Choice(ORG_ROLES)
)
@click.pass_obj
@async_command
async def add_org_user(root: Root, org_name: str, user_name: str, role: str) -> None:
    """Add user access to specified org.

    The command supports one of 3 user roles: admin, manager or user.
    """
    async with root.client() as client:
        user = await client._admin.create_org_user(
            org_name, user_name, neuro_sdk._OrgUserRoleType(role)
        )
    root.info(_text(f"Added {user.user_name} to org {org_name} as {user.role}"))


@admin.command("remove-org-user")
@click.argument("org_name")
@click.argument("user_name")
@click.pass_obj
@async_command
async def remove_org_user(root: Root, org_name: str, user_name: str) -> None:
    """Remove user access from the org."""
    async with root.client() as client:
        await client._admin.delete_org_user(org_name, user_name)
    root.info(_text(f"Removed {user_name} from org {org_name}"))


# -- org clusters --------------------------------------------------------------------------


def _defaults_options(func: click.decorators.FC) -> click.decorators.FC:
    for decorator in reversed(
        (
            click.option(
                "--default-credits",
                metavar="AMOUNT",
                default=UNLIMITED,
                show_default=True,
                help="Default credits amount to set (`unlimited' stands for no limit)",
            ),
            click.option(
                "--default-jobs",
                metavar="AMOUNT",
                default=UNLIMITED,
                show_default=True,
                help="Default maximum running jobs quota (`unlimited' stands for no limit)",
            ),
            click.option(
                "--default-role",
                metavar="[ROLE]",
                type=click.Choice(CLUSTER_ROLES),
                default="user",
                show_default=True,
                help="Default role for new users added to org cluster",
            ),
        )
    ):
        func = decorator(func)
    return func


def _limits_options(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option(
        "-j", "--jobs", metavar="AMOUNT", default=UNLIMITED, show_default=True, help=JOBS_HELP
    )(func)
    return click.option(
        "-c",
        "--credits",
        metavar="AMOUNT",
        default=UNLIMITED,
        show_default=True,
        help=CREDITS_HELP,
    )(func)


def _print_org_cluster_updated(
    root: Root, org_name: str, cluster_name: str, org: neuro_sdk._OrgCluster
) -> None:
    from neuro_cli.formatters.admin import format_org_cluster

    if not root.quiet:
        root.print(
            _text(f"Org {org_name} info in cluster {cluster_name} successfully updated. New info:")
        )
        root.print(format_org_cluster(org))


@admin.command("get-org-clusters")
@click.argument("cluster_name")
@click.pass_obj
@async_command
async def get_org_clusters(root: Root, cluster_name: str) -> None:
    """Print the list of all orgs in the cluster"""
    from neuro_cli.formatters.admin import format_org_clusters

    async with root.client() as client:
        root.print(format_org_clusters(await client._admin.list_org_clusters(cluster_name)))


@admin.command("add-org-cluster")
@click.argument("cluster_name")
@click.argument("org_name")
@_limits_options
@_defaults_options
@click.option(
    "--storage-size",
    metavar="AMOUNT",
    type=int,
    default=None,
    help="Storage size, ignored for storage types with elastic storage size",
)
@click.pass_obj
@async_command
async def add_org_cluster(
    root: Root,
    cluster_name: str,
    org_name: str,
    credits: str,
    jobs: str,
    default_credits: str,
    default_jobs: str,
    default_role: str,
    storage_size: int | None,
) -> None:
    """Add org access to specified cluster."""
    from neuro_cli.formatters.admin import format_org_cluster

    async with root.client() as client:
        org = await client._admin.create_org_cluster(
            cluster_name,
            org_name,
            quota=neuro_sdk._Quota(_jobs(jobs)),
            balance=neuro_sdk._Balance(credits=_credits(credits)),
            default_quota=neuro_sdk._Quota(_jobs(default_jobs)),
            default_credits=_credits(default_credits),
            default_role=neuro_sdk._ClusterUserRoleType(default_role),
            storage_size=storage_size,
        )
    if not root.quiet:
        root.print(_text(f"Added org {org_name} to {cluster_name}. Info:"))
        root.print(format_org_cluster(org))


@admin.command("update-org-cluster")
@click.argument("cluster_name")
@click.argument("org_name")
@_limits_options
@_defaults_options
@click.pass_obj
@async_command
async def update_org_cluster(
    root: Root,
    cluster_name: str,
    org_name: str,
    credits: str,
    jobs: str,
    default_credits: str,
    default_jobs: str,
    default_role: str,
) -> None:
    """Update org cluster quotas."""
    org = neuro_sdk._OrgCluster(
        org_name=org_name,
        cluster_name=cluster_name,
        balance=neuro_sdk._Balance(credits=_credits(credits)),
        quota=neuro_sdk._Quota(_jobs(jobs)),
        default_credits=_credits(default_credits),
        default_quota=neuro_sdk._Quota(_jobs(default_jobs)),
        default_role=neuro_sdk._ClusterUserRoleType(default_role),
    )
    async with root.client() as client:
        await client._admin.update_org_cluster(org)
        updated = await client._admin.get_org_cluster(cluster_name, org_name)
    _print_org_cluster_updated(root, org_name, cluster_name, updated)


@admin.command("remove-org-cluster")
@_force_option
@click.argument("cluster_name")
@click.argument("org_name")
@click.pass_obj
@async_command
async def remove_org_cluster(root: Root, cluster_name: str, org_name: str, force: bool) -> None:
    """Drop an org cluster

    Completely removes org from the cluster.
    """
    question = (
        f"Are you sure that you want to drop org '{org_name}' from cluster '{cluster_name}' (y/n)?"
    )
    if force or await _confirm(question):
        async with root.client() as client:
            await client._admin.delete_org_cluster(cluster_name, org_name)


@admin.command("set-org-cluster-defaults")
@click.argument("cluster_name")
@click.argument("org_name")
@_defaults_options
@click.pass_obj
@async_command
async def set_org_cluster_defaults(
    root: Root,
    cluster_name: str,
    org_name: str,
    default_credits: str,
    default_jobs: str,
    default_role: str,
) -> None:
    """Set org cluster defaults to given value"""
    async with root.client() as client:
        org = await client._admin.update_org_cluster_defaults(
            cluster_name,
            org_name,
            default_quota=neuro_sdk._Quota(_jobs(default_jobs)),
            default_credits=_credits(default_credits),
            default_role=neuro_sdk._ClusterUserRoleType(default_role),
        )
    _print_org_cluster_updated(root, org_name, cluster_name, org)


@admin.command("get-org-cluster-quota")
@click.argument("cluster_name")
@click.argument("org_name")
@click.pass_obj
@async_command
async def get_org_cluster_quota(root: Root, cluster_name: str, org_name: str) -> None:
    """Get info about org quota in given cluster"""
    async with root.client() as client:
        org = await client._admin.get_org_cluster(cluster_name, org_name)
    title = f"Quota and balance for org {org_name} on cluster {cluster_name}:"
    _print_limits(root, title, org.quota, org.balance)


@admin.command("set-org-cluster-quota")
@click.argument("cluster_name")
@click.argument("org_name")
@_set_jobs_option
@click.pass_obj
@async_command
async def set_org_cluster_quota(root: Root, cluster_name: str, org_name: str, jobs: str) -> None:
    """Set org cluster quota to given values"""
    quota = neuro_sdk._Quota(_jobs(jobs))
    async with root.client() as client:
        org = await client._admin.update_org_cluster_quota(cluster_name, org_name, quota)
    title = f"New quotas for org {org_name} on cluster {cluster_name}:"
    _print_limits(root, title, quota=org.quota)


@admin.command("set-org-cluster-credits")
@click.argument("cluster_name")
@click.argument("org_name")
@_set_credits_option
@click.pass_obj
@async_command
async def set_org_cluster_credits(
    root: Root, cluster_name: str, org_name: str, credits: str
) -> None:
    """Set org cluster credits to given value"""
    amount = _credits(credits)
    async with root.client() as client:
        org = await client._admin.update_org_cluster_balance(cluster_name, org_name, amount)
    title = f"New credits for org {org_name} on cluster {cluster_name}:"
    _print_limits(root, title, balance=org.balance)


@admin.command("add-org-cluster-credits")
@click.argument("cluster_name")
@click.argument("org_name")
@_add_credits_option
@click.pass_obj
@async_command
async def add_org_cluster_credits(
    root: Root, cluster_name: str, org_name: str, credits: str
) -> None:
    """Add given values to org cluster balance"""
    delta = _parse_finite_decimal(credits)
    async with root.client() as client:
        org = await client._admin.update_org_cluster_balance_by_delta(cluster_name, org_name, delta)
    title = f"New credits for org {org_name} on cluster {cluster_name}:"
    _print_limits(root, title, balance=org.balance)
