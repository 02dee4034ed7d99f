"""``neuro job``: run, ls, status, logs, kill, top, bump-life-span, save, exec, attach,
port-forward (all but bump-life-span are also top-level shortcuts; ls is ``neuro ps`` there).

JOB arguments are a job id (``job-<uuid>``), a job name (of the current user) or a
``job:`` URI (``job:NAME``, ``job:/OWNER/NAME``, ``job://CLUSTER/[ORG/]OWNER/NAME``).
"""

# Annotations stay unevaluated: naming SDK classes in them must not import the SDK modules
# (and the HTTP stack) at start-up.
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shlex
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import click

import neuro_sdk
from neuro_cli.errors import EXIT_ERROR, UserError, error_line
from neuro_cli.interactive import run_session
from neuro_cli.orgs import chosen_org
from neuro_cli.resource_uris import uri_formatter
from neuro_cli.root import Root
from neuro_cli.runner import async_command
from neuro_cli.tty import stdin_is_terminal

log = logging.getLogger(__name__)

# What 22.x passes, so that the archived and live parts of a log are told apart.
LOG_SEPARATOR = "<================ Live logs ==============>"
JOB_ID_RE = re.compile(r"job-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DURATION_RE = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
ME = "ME"  # the literal `--owner` takes for "the current user"
ALL = "ALL"  # the literal `top --owner` takes for "every user"
POLL_FIRST_S = 0.2
POLL_MAX_S = 1.0
TOP_NEW_JOBS_S = 3.0  # how often `top` without JOBs looks for new matching jobs
TOP_REDRAW_S = 0.2
EXIT_TIMEOUT = 124  # `top --timeout` ran out: 22.x's code (as timeout(1)'s)
STATUS_CHOICES = [str(status) for status in sorted(neuro_sdk.JobStatus.items())]


def parse_duration(text: str) -> float:
    """``1d2h3m4s`` (any part may be left out) or plain seconds → seconds."""
    text = text.strip()
    if text.isdigit():
        return float(text)
    match = DURATION_RE.fullmatch(text)
    if not text or match is None:
        raise click.BadParameter(f"{text!r} is not a duration like 1d2h3m4s")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds).total_seconds()


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """An ISO date/time (naive = local time) or a duration meaning "that long ago"."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        ago = parse_duration(text)
    except click.BadParameter:
        raise click.BadParameter(
            f"{text!r} is neither a date/time like 2024-03-01T10:00 nor a duration like 1d2h"
        ) from None
    return (now or datetime.now(UTC)) - timedelta(seconds=ago)


class DurationType(click.ParamType[float]):
    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(str(value))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


class MomentType(click.ParamType[datetime]):
    name = "datetime"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(str(value))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


DURATION = DurationType()
MOMENT = MomentType()


async def resolve_job(client: neuro_sdk.Client, text: str) -> str:
    """The job id that a JOB argument means."""
    owner = client.username
    name = text
    if text.startswith("job:"):
        # The short form is what lies in the caller's own tree; a long one names the owner.
        uri = client.parse.str_to_uri(text, allowed_schemes=("job",), short=True)
        parts = [part for part in uri.path.split("/") if part]
        if not parts:
            raise UserError(f"Invalid job URI {text!r}")
        name = parts[-1]
        if uri.host and len(parts) > 1:
            owner = parts[-2]
    if JOB_ID_RE.fullmatch(name):
        return name
    async with client.jobs.list(name=name, owners=[owner], reverse=True, limit=1) as jobs:
        async for job in jobs:
            return job.id
    raise UserError(f"Job {text!r} is not found")


def write_output(chunk: bytes) -> None:
    # Job output is bytes in whatever encoding the job used: pass it through untouched.
    # Text printed before (through rich) must come out first.
    sys.stdout.flush()
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


async def stream_logs(
    root: Root,
    client: neuro_sdk.Client,
    job_id: str,
    *,
    since: datetime | None = None,
    timestamps: bool = False,
) -> None:
    async with client.jobs.monitor(
        job_id,
        since=since,
        timestamps=timestamps,
        separator=LOG_SEPARATOR,
        debug=root.options.verbosity >= 2,
    ) as chunks:
        async for chunk in chunks:
            write_output(chunk)


async def wait_while(
    client: neuro_sdk.Client,
    job: neuro_sdk.JobDescription,
    keep_waiting: Callable[[neuro_sdk.JobStatus], bool],
) -> neuro_sdk.JobDescription:
    """Poll the job while ``keep_waiting(status)`` holds, backing off up to a second."""
    delay = POLL_FIRST_S
    while keep_waiting(job.status):
        await asyncio.sleep(delay)
        delay = min(delay * 2, POLL_MAX_S)
        job = await client.jobs.status(job.id)
    return job


def job_exit_code(job: neuro_sdk.JobDescription) -> int:
    if job.history.exit_code is not None:
        return job.history.exit_code
    return 0 if job.status is neuro_sdk.JobStatus.SUCCEEDED else EXIT_ERROR


@click.group()
def job() -> None:
    """Job operations."""


# -- run ---------------------------------------------------------------------------------------


# Everything after IMAGE belongs to the job's command, options included (as in 22.x).
@job.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("image")
@click.argument("cmd", nargs=-1, type=click.UNPROCESSED)
@click.option("-s", "--preset", help="Resource preset (default: the cluster's first one).")
@click.option("-n", "--name", help="Job name: lower-case letters, digits and dashes.")
@click.option("--tag", "tags", multiple=True, help="Tag the job; repeatable.")
@click.option("-d", "--description", help="Free-form description of the job.")
@click.option("-e", "--env", multiple=True, help="VAR=VALUE or VAR (from this shell).")
@click.option("--env-file", multiple=True, help="A file of VAR=VALUE lines; repeatable.")
@click.option(
    "-v",
    "--volume",
    "volumes",
    multiple=True,
    metavar="MOUNT",
    help="storage:PATH:/MNT[:ro|:rw] (read-write by default), secret:KEY:/FILE or "
    "disk:NAME:/MNT[:ro|:rw]; repeatable. VAR=secret:KEY in --env passes a secret.",
)
@click.option("--http-port", type=int, help="Expose this port of the job over HTTP.")
@click.option(
    "--http-auth/--no-http-auth",
    default=True,
    show_default=True,
    help="Require a platform token for the job's HTTP URL.",
)
@click.option("--entrypoint", help="Override the image's ENTRYPOINT.")
@click.option("-w", "--workdir", help="Working directory inside the container.")
@click.option(
    "--life-span",
    type=DURATION,
    help="Run time limit like 1d2h3m, 0 for none (default: config job.life-span, else 1d).",
)
@click.option("--schedule-timeout", type=DURATION, help="How long the job may wait for a node.")
@click.option(
    "--restart",
    type=click.Choice([str(policy) for policy in neuro_sdk.JobRestartPolicy]),
    default="never",
    show_default=True,
    help="Restart the job when it exits.",
)
@click.option(
    "--priority",
    type=click.Choice(["low", "normal", "high"]),
    help="Start order among waiting jobs.",
)
@click.option(
    "--wait-for-seat/--no-wait-for-seat",
    default=False,
    help="Wait for a free seat of the running-jobs quota instead of failing.",
)
@click.option("--pass-config/--no-pass-config", default=False, help="Log the job in as you.")
@click.option(
    "--wait-start/--no-wait-start",
    default=True,
    show_default=True,
    help="Wait for the job to start; --no-wait-start implies --detach.",
)
# As in 22.x, -d is --description: --detach has no short form.
@click.option("--detach", is_flag=True, help="Do not follow the job's output.")
@click.option(
    "-x/-X", "--extshm/--no-extshm", default=True, show_default=True, help="Large /dev/shm."
)
@click.option("--cluster", help="Run the job on this cluster (default: the current one).")
@click.option("--org", help="Run the job in this org (default: the current one).")
@click.option(
    "--share",
    "share_with",
    metavar="USER",
    multiple=True,
    help="Give this user or role write access to the job; repeatable.",
)
@click.option(
    "--port-forward",
    "port_forwards",
    metavar="LOCAL_PORT:REMOTE_PORT",
    multiple=True,
    help="Forward a local port to a port of the job while following it; repeatable.",
)
@click.option("--privileged", is_flag=True, help="Run the container in privileged mode.")
@click.option(
    "--preemptible/--non-preemptible",
    default=None,
    help="Require the preset to be preemptible (or not).",
)
@click.option("--browse", is_flag=True, help="Open the job's HTTP URL in a browser.")
@click.option(
    "-t/-T",
    "--tty/--no-tty",
    default=None,
    help="Give the job a terminal and attach to it (default: when stdin is one).",
)
@click.pass_obj
@async_command
async def run(
    root: Root,
    image: str,
    cmd: Sequence[str],
    preset: str | None,
    name: str | None,
    tags: Sequence[str],
    description: str | None,
    env: Sequence[str],
    env_file: Sequence[str],
    volumes: Sequence[str],
    http_port: int | None,
    http_auth: bool,
    entrypoint: str | None,
    workdir: str | None,
    life_span: float | None,
    schedule_timeout: float | None,
    restart: str,
    priority: str | None,
    wait_for_seat: bool,
    pass_config: bool,
    wait_start: bool,
    detach: bool,
    extshm: bool,
    privileged: bool,
    preemptible: bool | None,
    browse: bool,
    tty: bool | None,
    cluster: str | None,
    org: str | None,
    share_with: Sequence[str],
    port_forwards: Sequence[str],
) -> None:
    """Run a job from IMAGE, with CMD as its command.

    By default the job's output is followed until it ends, and the job's exit code
    becomes this command's. Put `--` before CMD when it has options of its own:

        neuro run neuro-base/busybox:latest -- sh -c 'echo hello'
    """
    from neuro_cli.formatters.jobs import format_detached_hints, format_job_started

    forwards = [_port_pair(text) for text in port_forwards]
    async with root.client() as client:
        cluster_name = _choose_cluster(client, cluster)
        org_name = chosen_org(org, client.config.org_name)
        preset_name = _choose_preset(client, cluster_name, preset, preemptible)
        remote_image = client.parse.remote_image(image, cluster_name=cluster_name)
        envs = client.parse.envs(env, env_file, cluster_name=cluster_name)
        mounts = client.parse.volumes(volumes, cluster_name=cluster_name)
        if life_span is None:
            life_span = await _default_life_span(client)
        tty = stdin_is_terminal() and not detach if tty is None else tty
        submitted = await client.jobs.start(
            tty=tty,
            image=remote_image,
            preset_name=preset_name,
            cluster_name=cluster_name,
            org_name=org_name,
            command=" ".join(_quote(arg) for arg in _job_command(cmd)) or None,
            entrypoint=entrypoint,
            working_dir=workdir,
            http=neuro_sdk.HTTPPort(http_port, http_auth) if http_port else None,
            env=envs.env,
            secret_env=envs.secret_env,
            volumes=mounts.volumes,
            secret_files=mounts.secret_files,
            disk_volumes=mounts.disk_volumes,
            shm=extshm,
            name=name,
            tags=tags,
            description=description,
            pass_config=pass_config,
            wait_for_jobs_quota=wait_for_seat,
            schedule_timeout=schedule_timeout,
            restart_policy=neuro_sdk.JobRestartPolicy(restart),
            life_span=life_span or None,
            privileged=privileged,
            priority=neuro_sdk.JobPriority[priority.upper()] if priority else None,
        )
        for user in share_with:
            permission = neuro_sdk.Permission(submitted.uri, neuro_sdk.Action.WRITE)
            await client.users.share(user, permission)
        if detach or not wait_start:
            root.info(format_detached_hints(submitted))
            return
        root.info(format_job_started(submitted))
        started = await wait_while(client, submitted, lambda status: status.is_pending)
        root.info(format_job_started(started))
        if browse and started.container.http is not None:
            from neuro_cli.browser import open_browser_if_possible

            await open_browser_if_possible(started.http_url)
        attached = False
        async with contextlib.AsyncExitStack() as forwarding:
            if started.status.is_running:
                await _forward_ports(root, client, forwarding, started, forwards)
            if tty and started.status.is_running:
                attached = await _attach_while_running(client, started)
            if not attached and (started.status.is_running or started.history.started_at):
                await stream_logs(root, client, started.id)
        finished = await wait_while(client, started, lambda status: not status.is_finished)
        if finished.status is not neuro_sdk.JobStatus.SUCCEEDED:
            reason = finished.history.reason or finished.status
            detail = f": {finished.history.description}" if finished.history.description else ""
            message = f"Job {finished.id} {finished.status} ({reason}){detail}"
            click.echo(error_line(message), err=True)
        code = job_exit_code(finished)
    if code:
        raise click.exceptions.Exit(code)


def _job_command(cmd: Sequence[str]) -> Sequence[str]:
    # Click hands over everything after IMAGE untouched, so the `--` of
    # `neuro run IMAGE -- CMD` is still there: it separates, it is not part of CMD.
    return cmd[1:] if list(cmd[:1]) == ["--"] else cmd


def _quote(arg: str) -> str:
    # The server splits the command with shlex: keep each argument one word.
    return shlex.quote(arg)


def _choose_cluster(client: neuro_sdk.Client, cluster: str | None) -> str:
    if cluster is None:
        return client.config.cluster_name
    if cluster not in client.config.clusters:
        known = ", ".join(sorted(client.config.clusters))
        raise UserError(f"Cluster {cluster!r} is not known; choose one of: {known}")
    return cluster


def _choose_preset(
    client: neuro_sdk.Client, cluster_name: str, preset: str | None, preemptible: bool | None
) -> str:
    presets = client.config.clusters[cluster_name].presets
    if not presets:
        raise UserError(f"Cluster {cluster_name} offers no presets")
    name = preset or next(iter(presets))
    chosen = presets.get(name)
    if chosen is None:
        raise UserError(f"Preset {name!r} is not known; choose one of: {', '.join(presets)}")
    if preemptible is not None and chosen.scheduler_enabled != preemptible:
        wanted = "preemptible" if preemptible else "non-preemptible"
        raise UserError(f"Preset {name!r} is not {wanted}")
    return name


async def _default_life_span(client: neuro_sdk.Client) -> float:
    configured = (await client.config.get_user_config()).get("job", {}).get("life-span")
    if configured is None:
        return timedelta(days=1).total_seconds()
    try:
        return parse_duration(configured)
    except click.BadParameter as exc:
        raise UserError(f"job.life-span in the user config: {exc.message}") from None


# -- ps / status / logs ------------------------------------------------------------------------


@job.command(name="ls")
@click.option(
    "-s",
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([*STATUS_CHOICES, "all"]),
    help="Only jobs in this status; repeatable (default: pending, suspended, running).",
)
@click.option("-n", "--name", help="Only jobs with this name.")
@click.option("-t", "--tag", "tags", multiple=True, help="Only jobs with all these tags.")
@click.option("-o", "--owner", "owners", multiple=True, help=f"Only jobs of this user ({ME}: you).")
@click.option("--since", type=MOMENT, help="Created at or after: a date/time or an age (1d).")
@click.option("--until", type=MOMENT, help="Created at or before: a date/time or an age.")
@click.option("--recent-first/--recent-last", default=False, help="Order by creation time.")
@click.option("-a", "--all", "all_statuses", is_flag=True, help="Jobs in every status.")
@click.option(
    "--format",
    "format_spec",
    help="Columns, e.g. 'id name status' (default: config job.ps-format).",
)
@click.option("-w", "--wide", is_flag=True, help="Do not cut long columns.")
@click.option("--cluster", help="Jobs on this cluster (default: the current one).")
@click.option("-d", "--description", help="Only jobs with exactly this description.")
@click.option("--distinct", is_flag=True, help="Only the first job of each name.")
@click.option("--full-uri", is_flag=True, help="Print URIs in full.")
@click.pass_obj
@async_command
async def ls(
    root: Root,
    statuses: Sequence[str],
    name: str | None,
    tags: Sequence[str],
    owners: Sequence[str],
    since: datetime | None,
    until: datetime | None,
    recent_first: bool,
    all_statuses: bool,
    format_spec: str | None,
    wide: bool,
    cluster: str | None,
    description: str | None,
    distinct: bool,
    full_uri: bool,
) -> None:
    """List jobs.

    \b
    neuro ps -a --owner ME --owner bob
    neuro ps --name my-experiment -s failed -s succeeded
    neuro ps -d "my favourite job" --distinct
    """
    from neuro_cli.formatters.jobs import DEFAULT_PS_COLUMNS, parse_ps_format, print_jobs

    async with root.client() as client:
        if format_spec is None:
            format_spec = (await client.config.get_user_config()).get("job", {}).get("ps-format")
        try:
            columns = parse_ps_format(format_spec) if format_spec else DEFAULT_PS_COLUMNS
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--format") from None
        wanted: set[neuro_sdk.JobStatus] = set()
        if not all_statuses and "all" not in statuses:
            wanted = {neuro_sdk.JobStatus(status) for status in statuses}
            wanted = wanted or neuro_sdk.JobStatus.active_items()
        owner_names = [client.username if owner == ME else owner for owner in owners]
        async with client.jobs.list(
            statuses=sorted(wanted),
            name=name,
            tags=tags,
            owners=owner_names,
            since=since,
            until=until,
            reverse=recent_first,
            cluster_name=_choose_cluster(client, cluster),
        ) as found:
            await print_jobs(
                root.console,
                _kept(found, description, distinct),
                columns=columns,
                wide=wide,
                tz=_local_tz(),
                uri=uri_formatter(client.parse, full=full_uri),
                iso=root.options.iso_datetime_format,
            )


async def _kept(
    jobs: AsyncIterator[neuro_sdk.JobDescription], description: str | None, distinct: bool
) -> AsyncIterator[neuro_sdk.JobDescription]:
    """The server has no filters for these two: 22.x applies them here too. With
    ``distinct``, the first job of each name (unnamed jobs are all distinct)."""
    seen: set[str] = set()
    async for job in jobs:
        if description is not None and job.description != description:
            continue
        if distinct and job.name is not None:
            if job.name in seen:
                continue
            seen.add(job.name)
        yield job


@job.command()
@click.argument("job_ref", metavar="JOB")
@click.option("--full-uri", is_flag=True, help="Print URIs in full.")
@click.pass_obj
@async_command
async def status(root: Root, job_ref: str, full_uri: bool) -> None:
    """Show the status and details of JOB."""
    from neuro_cli.formatters.jobs import format_job_status

    async with root.client() as client:
        description = await client.jobs.status(await resolve_job(client, job_ref))
        table = format_job_status(
            description,
            tz=_local_tz(),
            uri=uri_formatter(client.parse, full=full_uri),
            iso=root.options.iso_datetime_format,
        )
        root.print(table)


@job.command()
@click.argument("job_ref", metavar="JOB")
@click.option("--since", type=MOMENT, help="Only lines from then on: a date/time or an age.")
@click.option("--timestamps", is_flag=True, help="Start each line with its time.")
@click.pass_obj
@async_command
async def logs(root: Root, job_ref: str, since: datetime | None, timestamps: bool) -> None:
    """Print the output of JOB; follows it while the job runs."""
    async with root.client() as client:
        job_id = await resolve_job(client, job_ref)
        await stream_logs(root, client, job_id, since=since, timestamps=timestamps)


# -- kill / top / bump-life-span --------------------------------------------------------------


@job.command()
@click.argument("job_refs", metavar="JOB...", nargs=-1, required=True)
@click.pass_obj
@async_command
async def kill(root: Root, job_refs: Sequence[str]) -> None:
    """Kill each JOB; prints the ids of the killed ones."""
    failed = 0
    async with root.client() as client:
        for job_ref in job_refs:
            try:
                job_id = await resolve_job(client, job_ref)
                await client.jobs.kill(job_id)
            except (neuro_sdk.NeuroError, ValueError) as exc:
                failed += 1
                click.echo(error_line(f"Cannot kill job {job_ref}: {exc}"), err=True)
            else:
                root.print(job_id)
    if failed:
        raise click.exceptions.Exit(EXIT_ERROR)


@job.command()
@click.argument("job_refs", metavar="[JOB]...", nargs=-1)
@click.option("--cluster", help="Jobs on this cluster (default: the current one).")
@click.option(
    "-o", "--owner", "owners", multiple=True, help=f"Jobs of this user ({ME}: you, ALL: anyone)."
)
@click.option("-n", "--name", help="Only jobs with this name.")
@click.option("-t", "--tag", "tags", multiple=True, help="Only jobs with all these tags.")
@click.option("-d", "--description", help="Only jobs with exactly this description.")
@click.option("--since", type=MOMENT, help="Created at or after: a date/time or an age (1d).")
@click.option("--until", type=MOMENT, help="Created at or before: a date/time or an age.")
@click.option(
    "--sort",
    default="cpu",
    show_default=True,
    metavar="COLUMNS",
    help="Sort rows by these comma-separated columns; a '-' prefix reverses one.",
)
@click.option(
    "--format",
    "format_spec",
    help="Columns, e.g. 'id name cpu memory' (default: config job.top-format).",
)
@click.option("--full-uri", is_flag=True, help="Print URIs in full.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Stop after this many seconds (exit code 124, as 22.x); 0 for no limit.",
)
@click.pass_obj
@async_command
async def top(
    root: Root,
    job_refs: Sequence[str],
    cluster: str | None,
    owners: Sequence[str],
    name: str | None,
    tags: Sequence[str],
    description: str | None,
    since: datetime | None,
    until: datetime | None,
    sort: str,
    format_spec: str | None,
    full_uri: bool,
    timeout: float,  # noqa: ASYNC109 (22.x's --timeout; asyncio.timeout applies it below)
) -> None:
    """Show the CPU, memory and GPU use of running jobs: the JOBs given (until they end),
    or else the user's running jobs that match the filters (until Ctrl-C).

    \b
    neuro top
    neuro top job-1 job-2
    neuro top --owner ALL --sort -memory
    """
    from neuro_cli.formatters.jobs import DEFAULT_TOP_COLUMNS, parse_sort_keys, parse_top_format

    filters = {"--name": name, "--owner": owners, "--since": since, "--until": until}
    filters["--description"] = description
    if job_refs:
        for flag, value in filters.items():
            if value:
                raise click.UsageError(f"Option {flag} is mutually exclusive with job arguments")
    if ALL in owners and len(owners) > 1:
        raise click.UsageError("Multiple --owner options are incompatible with --owner=ALL")
    try:
        sort_keys = parse_sort_keys(sort)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--sort") from None
    async with root.client() as client:
        if format_spec is None:
            format_spec = (await client.config.get_user_config()).get("job", {}).get("top-format")
        try:
            columns = parse_top_format(format_spec) if format_spec else DEFAULT_TOP_COLUMNS
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--format") from None
        board = _TopBoard(root, client, columns, sort_keys, full_uri)
        try:
            async with asyncio.timeout(timeout or None):
                if job_refs:
                    await board.follow_jobs(job_refs)
                else:
                    selection = neuro_sdk.JobStatus.active_items()
                    owner_names = [client.username if owner == ME else owner for owner in owners]
                    if not owner_names:
                        owner_names = [client.username]
                    await board.follow_matching(
                        dict(
                            statuses=selection,
                            name=name,
                            tags=tags,
                            owners=[] if ALL in owner_names else owner_names,
                            since=since,
                            until=until,
                            cluster_name=_choose_cluster(client, cluster),
                        ),
                        description,
                    )
        except TimeoutError:
            raise click.exceptions.Exit(EXIT_TIMEOUT) from None
        except ExceptionGroup as group:
            # A job that could not be followed: its error, not the task group's wrapper.
            raise _first_error(group) from None
        finally:
            board.close()


def _first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    first = group.exceptions[0]
    return _first_error(first) if isinstance(first, BaseExceptionGroup) else first


class _TopBoard:
    """The latest sample of each followed job, shown as one table: redrawn in place on a
    terminal, printed anew after each change otherwise (so that nothing is lost)."""

    def __init__(
        self,
        root: Root,
        client: neuro_sdk.Client,
        columns: Sequence[str],
        sort: Sequence[tuple[str, bool]],
        full_uri: bool,
    ) -> None:
        self._root = root
        self._client = client
        self._columns = columns
        self._sort = sort
        self._uri = uri_formatter(client.parse, full=full_uri)
        self._samples: dict[str, tuple[neuro_sdk.JobDescription, neuro_sdk.JobTelemetry]] = {}
        self._followed: set[str] = set()
        self._changed = asyncio.Event()
        self._live: Any = None

    async def follow_jobs(self, job_refs: Sequence[str]) -> None:
        jobs = []
        for job_ref in job_refs:
            job_id = await resolve_job(self._client, job_ref)
            if job_id not in self._followed:
                self._followed.add(job_id)
                jobs.append(await self._client.jobs.status(job_id))
        async with asyncio.TaskGroup() as tasks:
            drawing = tasks.create_task(self._draw())
            async with asyncio.TaskGroup() as followers:
                for job in jobs:
                    followers.create_task(self._follow(job))
            drawing.cancel()
        self._render()

    async def follow_matching(self, query: dict[str, Any], description: str | None) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._draw())
            while True:  # new jobs that match join the table as they appear
                async with self._client.jobs.list(**query) as found:
                    async for job in found:
                        if job.id in self._followed:
                            continue
                        if description is not None and job.description != description:
                            continue
                        self._followed.add(job.id)
                        tasks.create_task(self._follow(job))
                await asyncio.sleep(TOP_NEW_JOBS_S)

    async def _follow(self, job: neuro_sdk.JobDescription) -> None:
        try:
            async with self._client.jobs.top(job.id, cluster_name=job.cluster_name) as samples:
                async for sample in samples:
                    self._samples[job.id] = (job, sample)
                    self._changed.set()
        except neuro_sdk.NeuroError as exc:
            # The job ended before its telemetry could be asked for: it leaves the table,
            # as one that ends while followed does (22.x ignores it the same way).
            log.debug("No telemetry of %s: %s", job.id, exc)
        finally:
            self._samples.pop(job.id, None)
            self._changed.set()

    async def _draw(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            self._render()
            await asyncio.sleep(TOP_REDRAW_S)  # samples of several jobs make one redraw

    def _render(self) -> None:
        from neuro_cli.formatters.jobs import format_top

        if not self._samples and self._live is None:
            return
        table = format_top(
            self._samples.values(),
            columns=self._columns,
            sort=self._sort,
            tz=_local_tz(),
            uri=self._uri,
            iso=self._root.options.iso_datetime_format,
        )
        if not self._root.console.is_terminal:
            self._root.print(table)
            return
        if self._live is None:
            from rich.live import Live

            self._live = Live(console=self._root.console, auto_refresh=False)
            self._live.start()
        self._live.update(table, refresh=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()


@job.command()
@click.argument("job_ref", metavar="JOB")
@click.pass_obj
@async_command
async def browse(root: Root, job_ref: str) -> None:
    """Open the HTTP URL of JOB in a web browser."""
    from neuro_cli.browser import open_browser

    async with root.client() as client:
        description = await client.jobs.status(await resolve_job(client, job_ref))
    if description.container.http is None or not description.http_url.host:
        raise UserError(f"Job {description.id} has no HTTP URL: run it with --http-port")
    root.info(f"Opening {description.http_url}")
    await open_browser(description.http_url)


@job.command(name="generate-run")
@click.argument("job_ref", metavar="JOB")
@click.pass_obj
@async_command
async def generate_run(root: Root, job_ref: str) -> None:
    """Print the `neuro run` command that runs JOB again (its secrets stay URIs):

    eval "$(neuro job generate-run my-job)"
    """
    async with root.client() as client:
        description = await client.jobs.status(await resolve_job(client, job_ref))
    click.echo(shlex.join(["neuro", "run", *run_arguments(description)]))


def run_arguments(job: neuro_sdk.JobDescription) -> list[str]:
    """The `neuro run` arguments that make a job like ``job``."""
    from neuro_cli.formatters.jobs import format_duration

    container = job.container
    args: list[str] = []
    if job.preset_name:
        args += ["--preset", job.preset_name]
    if not container.resources.shm:
        args.append("--no-extshm")
    if container.http is not None:
        args += ["--http-port", str(container.http.port)]
        if not container.http.requires_auth:
            args.append("--no-http-auth")
    if job.name:
        args += ["--name", job.name]
    for tag in job.tags:
        args += ["--tag", tag]
    if job.description:
        args += ["--description", job.description]
    for volume in container.volumes:
        args += ["--volume", f"{volume.storage_uri}:{volume.container_path}:{_mode(volume)}"]
    for disk in container.disk_volumes:
        args += ["--volume", f"{disk.disk_uri}:{disk.container_path}:{_mode(disk)}"]
    for secret in container.secret_files:
        args += ["--volume", f"{secret.secret_uri}:{secret.container_path}"]
    if container.entrypoint:
        args += ["--entrypoint", container.entrypoint]
    if container.working_dir:
        args += ["--workdir", container.working_dir]
    for name, value in container.env.items():
        # --pass-config sets this one anew; its old value is a stale login.
        if not (job.pass_config and name == neuro_sdk.PASS_CONFIG_ENV_NAME):
            args += ["--env", f"{name}={value}"]
    for name, uri in container.secret_env.items():
        args += ["--env", f"{name}={uri}"]
    if job.restart_policy is not neuro_sdk.JobRestartPolicy.NEVER:
        args += ["--restart", str(job.restart_policy)]
    # No life span is "0" here: without the option, run would apply the default one.
    args += ["--life-span", format_duration(job.life_span) if job.life_span else "0"]
    if job.schedule_timeout:
        args += ["--schedule-timeout", format_duration(job.schedule_timeout)]
    if job.pass_config:
        args.append("--pass-config")
    if job.privileged:
        args.append("--privileged")
    if job.priority is not neuro_sdk.JobPriority.NORMAL:
        args += ["--priority", job.priority.name.lower()]
    args.append(str(container.image))
    if container.command:
        args += ["--", *shlex.split(container.command)]
    return args


def _mode(volume: neuro_sdk.Volume | neuro_sdk.DiskVolume) -> str:
    return "ro" if volume.read_only else "rw"


@job.command(name="bump-life-span")
@click.argument("job_ref", metavar="JOB")
@click.argument("additional", metavar="TIMEDELTA", type=DURATION)
@click.pass_obj
@async_command
async def bump_life_span(root: Root, job_ref: str, additional: float) -> None:
    """Give JOB TIMEDELTA (like 1h30m) more run time."""
    async with root.client() as client:
        job_id = await resolve_job(client, job_ref)
        await client.jobs.bump_life_span(job_id, additional)
        root.info(f"The life span of {job_id} is increased")


@job.command()
@click.argument("job_ref", metavar="JOB")
@click.argument("image", metavar="IMAGE")
@click.pass_obj
@async_command
async def save(root: Root, job_ref: str, image: str) -> None:
    """Save the state of the running JOB to IMAGE of the platform registry.

    \b
    neuro job save my-job image:ubuntu-patched:v1
    neuro job save job-<id> image:/bob/ubuntu-patched
    """
    async with root.client() as client:
        remote = client.parse.remote_image(image)
        if not remote.is_in_platform_registry:
            raise UserError(f"{image} is not an image of the platform registry (image:NAME:TAG)")
        job_id = await resolve_job(client, job_ref)
        await client.jobs.save(job_id, remote, progress=_SaveProgress(root))
    root.print(str(remote))


class _SaveProgress:
    """What `job save` reports on the way; -q keeps it quiet."""

    def __init__(self, root: Root) -> None:
        self._root = root

    def save(self, data: object) -> None:
        pass  # the commit line below says it all

    def commit_started(self, data: object) -> None:
        self._root.info("Creating the image from the job's container...")

    def commit_finished(self, data: object) -> None:
        self._root.info("Image created; pushing it to the registry...")

    def step(self, data: neuro_sdk.ImageProgressStep) -> None:
        if data.current is None:  # a layer's new state, not a byte count
            self._root.info(data.message)


@job.command(
    name="exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("job_ref", metavar="JOB")
@click.argument("cmd", nargs=-1, type=click.UNPROCESSED, required=True)
@click.option(
    "-t/-T",
    "--tty/--no-tty",
    default=None,
    help="Give the command a terminal (default: when stdin is one).",
)
@click.option("--no-key-check", is_flag=True, hidden=True)  # 22.x's flag; nothing to check
@click.pass_obj
@async_command
async def exec_(
    root: Root, job_ref: str, cmd: Sequence[str], tty: bool | None, no_key_check: bool
) -> None:
    """Run CMD in the running JOB; its exit code becomes this command's.

    neuro exec my-job -- sh -c 'ls /data | wc -l'
    """
    tty = stdin_is_terminal() if tty is None else tty
    command = " ".join(_quote(arg) for arg in _job_command(cmd))
    async with root.client() as client:
        job_id = await resolve_job(client, job_ref)
        # A terminal merges stderr into stdout: the server refuses to be asked for both.
        async with client.jobs.exec(
            job_id, command, tty=tty, stdin=True, stdout=True, stderr=not tty
        ) as stream:
            code = await run_session(stream, tty=tty, stdin=True)
    if code:
        raise click.exceptions.Exit(code)


@job.command()
@click.argument("job_ref", metavar="JOB")
@click.option(
    "--port-forward",
    "port_forwards",
    metavar="LOCAL_PORT:REMOTE_PORT",
    multiple=True,
    help="Forward a local port to a port of the job while attached; repeatable.",
)
@click.pass_obj
@async_command
async def attach(root: Root, job_ref: str, port_forwards: Sequence[str]) -> None:
    """Connect to the running JOB's terminal (or output, when it has none)."""
    pairs = [_port_pair(text) for text in port_forwards]
    async with root.client() as client, contextlib.AsyncExitStack() as forwarding:
        job_id = await resolve_job(client, job_ref)
        description = await client.jobs.status(job_id)
        await _forward_ports(root, client, forwarding, description, pairs)
        code = await attach_to(client, description)
    if code:
        raise click.exceptions.Exit(code)


async def attach_to(client: neuro_sdk.Client, job_description: neuro_sdk.JobDescription) -> int:
    """Attach until the job ends; its exit code."""
    tty = job_description.container.tty
    # Only a terminal job keeps its stdin open: typing to another would go nowhere.
    async with client.jobs.attach(
        job_description.id, tty=tty, stdin=tty, stdout=True, stderr=not tty
    ) as stream:
        return await run_session(stream, tty=tty, stdin=tty)


@job.command(name="port-forward")
@click.argument("job_ref", metavar="JOB")
@click.argument("ports", metavar="LOCAL_PORT:REMOTE_PORT...", nargs=-1, required=True)
@click.option("--no-key-check", is_flag=True, hidden=True)  # 22.x's flag; nothing to check
@click.pass_obj
@async_command
async def port_forward(root: Root, job_ref: str, ports: Sequence[str], no_key_check: bool) -> None:
    """Forward local ports to ports of the running JOB until Ctrl-C.

    neuro port-forward my-job 8080:80 2222:22
    """
    pairs = [_port_pair(text) for text in ports]
    async with root.client() as client, contextlib.AsyncExitStack() as forwards:
        job_id = await resolve_job(client, job_ref)
        for local, remote in pairs:
            await forwards.enter_async_context(client.jobs.port_forward(job_id, local, remote))
            root.info(f"Port localhost:{local} will be forwarded to port {remote}")
        root.info("Press ^C to stop forwarding")
        await asyncio.Event().wait()  # until Ctrl-C cancels the command


async def _attach_while_running(client: neuro_sdk.Client, job: neuro_sdk.JobDescription) -> bool:
    """False when the job ended before it could be attached to (its logs tell the rest)."""
    try:
        await attach_to(client, job)
    except neuro_sdk.ResourceNotFound:
        return False
    return True


async def _forward_ports(
    root: Root,
    client: neuro_sdk.Client,
    stack: contextlib.AsyncExitStack,
    job: neuro_sdk.JobDescription,
    pairs: Sequence[tuple[int, int]],
) -> None:
    """Forward each LOCAL:REMOTE pair until ``stack`` closes."""
    for local, remote in pairs:
        forward = client.jobs.port_forward(job.id, local, remote, cluster_name=job.cluster_name)
        await stack.enter_async_context(forward)
        root.info(f"Port localhost:{local} will be forwarded to port {remote}")


def _port_pair(text: str) -> tuple[int, int]:
    local, sep, remote = text.partition(":")
    try:
        pair = int(local), int(remote)
    except ValueError:
        pair = (0, 0)
    if not sep or not all(0 < port < 2**16 for port in pair):
        raise UserError(f"Invalid port pair {text!r}: expected LOCAL_PORT:REMOTE_PORT")
    return pair


def _local_tz() -> Any:
    return datetime.now().astimezone().tzinfo


# The same commands under the names users know from the top level.
ps = click.Command(
    "ps", callback=ls.callback, params=ls.params, help=ls.help, short_help=ls.short_help
)
