"""The `neuro-platform` command: `serve` and `admin ...`.

The server's own modules (the web application and everything it composes: job orchestrators,
the object store's client, the registry) are imported by `serve` and `registry gc` when they
run, not here: an `admin` command works on the database alone, and importing the whole server
took half of its second (`python -X importtime -m neuro_platform admin user list`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from . import __version__
from .admin import DEFAULT_REMOVAL_WAIT_S, Admin, run_admin
from .admin_api.entities import ClusterRole
from .auth.users import UserError
from .settings import CommandLineOverrides, Settings, SettingsError, load_settings

T = TypeVar("T")

# How long `admin registry gc` waits for a running server to collect (here, not in
# registry/gc.py, whose registry client is the server's: see the docstring).
DEFAULT_GC_WAIT_S = 600.0

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML configuration file.",
)
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the database and signing key live (default ~/.local/share/neuro-platform).",
)


def _settings(config_file: Path | None, overrides: CommandLineOverrides) -> Settings:
    try:
        return load_settings(config_file, overrides=overrides)
    except SettingsError as e:
        raise click.ClickException(str(e)) from e


@click.group()
@click.version_option(__version__, prog_name="neuro-platform")
def main() -> None:
    """The self-hostable Neuro Platform server."""


@main.command()
@config_option
@data_dir_option
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on (default 8080).")
def serve(
    config_file: Path | None, data_dir: Path | None, host: str | None, port: int | None
) -> None:
    """Run the platform server."""
    from .data_dir import DataDirInUseError, lock_data_dir
    from .leadership import is_postgres

    settings = _settings(config_file, CommandLineOverrides(data_dir=data_dir, host=host, port=port))
    # Before migrations and job adoption: a second server must touch nothing of the first's.
    try:
        lock = lock_data_dir(settings.data_dir, shared=is_postgres(settings.database_url))
    except DataDirInUseError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:
        raise click.ClickException(f"cannot use the data dir {settings.data_dir}: {e}") from e
    # After the lock: a server refused the data dir, or the settings, exits without them.
    from aiohttp import web

    from .api.access_log import RedactingAccessLogger
    from .app import create_app
    from .jobs.api_listener import bind_jobs_listener
    from .process_gc import settle_heap
    from .process_gil import hand_the_gil_over_often

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The format names no caller, thread or process: records need not find them (the
    # logging HOWTO's "Optimization"). Every request logs a line; this halves its cost.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    click.echo(f"Neuro Platform {__version__}: API at {settings.public_url / 'api' / 'v1'}")
    jobs_socket, settings = bind_jobs_listener(settings)
    app = create_app(settings)
    settle_heap()
    hand_the_gil_over_often()
    web.run_app(
        app,
        host=settings.server.host,
        port=settings.server.port,
        sock=jobs_socket,
        print=None,
        access_log_class=RedactingAccessLogger,
    )
    lock.release()


@main.group()
@config_option
@data_dir_option
@click.pass_context
def admin(ctx: click.Context, config_file: Path | None, data_dir: Path | None) -> None:
    """Manage users and tokens (works on the database directly)."""
    ctx.obj = _settings(config_file, CommandLineOverrides(data_dir=data_dir))


def _run_admin(settings: Settings, action: Callable[[Admin], Awaitable[T]]) -> T:
    try:
        return run_admin(settings, action)
    except UserError as e:
        raise click.ClickException(str(e)) from e


@admin.group()
def user() -> None:
    """Add, list and remove users."""


@user.command("add")
@click.argument("name")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="The new user's password (prompted for when omitted).",
)
@click.pass_obj
def user_add(settings: Settings, name: str, password: str) -> None:
    """Add a user who can log in with NAME and a password."""
    _run_admin(settings, lambda a: a.add_user(name, password))
    click.echo(f"Added user {name}")


@user.command("list")
@click.pass_obj
def user_list(settings: Settings) -> None:
    """List users, one name per line."""
    for u in _run_admin(settings, lambda a: a.list_users()):
        click.echo(u.name)


@user.command("remove")
@click.argument("name")
@click.option(
    "--wait-s",
    type=click.FloatRange(min=0),
    default=DEFAULT_REMOVAL_WAIT_S,
    show_default=True,
    help="How long to wait for a running server to end the user's jobs and disks.",
)
@click.pass_obj
def user_remove(settings: Settings, name: str, wait_s: float) -> None:
    """Remove a user and everything they had; their tokens stop working at once."""
    report = _run_admin(settings, lambda a: a.remove_user(name, wait_s=wait_s))
    for line in report.lines():
        click.echo(line)


@admin.group()
def token() -> None:
    """Issue access tokens and revoke refresh tokens."""


@token.command("issue")
@click.argument("name")
@click.option("--ttl-s", type=click.IntRange(min=1), help="Lifetime in seconds.")
@click.pass_obj
def token_issue(settings: Settings, name: str, ttl_s: int | None) -> None:
    """Print an access token (JWT) for user NAME."""
    issued = _run_admin(settings, lambda a: a.issue_token(name, ttl_s))
    click.echo(issued.token)


@token.command("revoke-refresh")
@click.argument("name")
@click.pass_obj
def token_revoke_refresh(settings: Settings, name: str) -> None:
    """Revoke every refresh token of user NAME (they must log in again when it expires)."""
    count = _run_admin(settings, lambda a: a.revoke_refresh_tokens(name))
    click.echo(f"Revoked {count} refresh token(s) of {name}")


cluster_option = click.option(
    "--cluster",
    "clusters",
    multiple=True,
    help="A cluster (repeatable; default: every configured cluster).",
)


def _clusters(settings: Settings, names: tuple[str, ...]) -> list[str]:
    for name in names:
        if settings.cluster(name) is None:
            raise click.BadParameter(f"no cluster {name!r} is configured", param_hint="--cluster")
    return list(names) or [c.name for c in settings.clusters]


@user.group("grant")
def user_grant() -> None:
    """Grant a user a right that only an administrator gives."""


@user_grant.command("privileged")
@click.argument("name")
@cluster_option
@click.pass_obj
def user_grant_privileged(settings: Settings, name: str, clusters: tuple[str, ...]) -> None:
    """Let user NAME run privileged jobs where the cluster allows them (allow_privileged)."""
    names = _clusters(settings, clusters)

    async def grant(admin: Admin) -> None:
        for cluster in names:
            await admin.grant_privileged(name, cluster)

    _run_admin(settings, grant)
    for cluster in names:
        allowed = settings.cluster(cluster)
        note = "" if allowed and allowed.allow_privileged else " (the cluster does not allow them)"
        click.echo(f"Granted {name} privileged jobs on cluster {cluster}{note}")


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice([r.value for r in ClusterRole]))
@cluster_option
@click.pass_obj
def user_role(settings: Settings, name: str, role: str, clusters: tuple[str, ...]) -> None:
    """Give user NAME a ROLE of the admin API (admin, manager, member, user) in clusters."""
    names = _clusters(settings, clusters)

    async def give(admin: Admin) -> None:
        for cluster in names:
            await admin.set_cluster_role(name, cluster, ClusterRole(role))

    _run_admin(settings, give)
    for cluster in names:
        click.echo(f"{name} is {role} of cluster {cluster}")


@user.group("revoke")
def user_revoke() -> None:
    """Take back a right granted with `grant`."""


@user_revoke.command("privileged")
@click.argument("name")
@cluster_option
@click.pass_obj
def user_revoke_privileged(settings: Settings, name: str, clusters: tuple[str, ...]) -> None:
    """Stop user NAME from starting privileged jobs (running ones are not stopped)."""
    names = _clusters(settings, clusters)

    async def revoke(admin: Admin) -> list[bool]:
        return [await admin.revoke_privileged(name, cluster) for cluster in names]

    for cluster, revoked in zip(names, _run_admin(settings, revoke), strict=True):
        if revoked:
            click.echo(f"Revoked privileged jobs of {name} on cluster {cluster}")
        else:
            click.echo(f"{name} had no privileged grant on cluster {cluster}")


@admin.group()
def registry() -> None:
    """Maintain the private image registry."""


@registry.command("gc")
@click.option(
    "--wait-s",
    type=click.FloatRange(min=1),
    default=DEFAULT_GC_WAIT_S,
    show_default=True,
    help="How long to wait for a running server to collect.",
)
@click.pass_obj
def registry_gc(settings: Settings, wait_s: float) -> None:
    """Delete untagged manifests and the blobs no manifest uses.

    While a server runs, it collects (pushes get 503 + Retry-After meanwhile); otherwise
    this command collects itself, holding the data dir so no server starts meanwhile."""
    from .registry.gc import collect_garbage

    try:
        summary = asyncio.run(collect_garbage(settings, wait_s))
    except (RuntimeError, OSError) as e:  # GarbageCollectionError, RegistryUnavailableError
        raise click.ClickException(str(e)) from e
    click.echo(f"Registry garbage collection: {summary}")
