"""Last gaps of the original 22.x CLI (issue #16): `--org NO_ORG` and a left-out `--org` mean
what they meant there, and the hidden global `--x-trace-all`; against our real server."""

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from click.testing import Result

from neuro_cli.formatters.times import format_datetime
from neuro_platform.testing.server import PlatformServer

Neuro = Callable[..., Result]


@pytest.fixture
def in_acme(two_cluster_server: PlatformServer, log_in: Callable[..., str], neuro: Neuro) -> Neuro:
    """alice, with the org acme selected (`neuro config switch-org acme`)."""
    log_in(two_cluster_server)
    switched = neuro("config", "switch-org", "acme")
    assert switched.exit_code == 0, switched.output
    return neuro


def test_secret_org_option_left_out_no_org_and_named(in_acme: Neuro) -> None:
    neuro = in_acme
    assert neuro("secret", "add", "in-current", "v").exit_code == 0
    assert neuro("secret", "add", "--org", "NO_ORG", "in-none", "v").exit_code == 0
    listed = neuro("secret", "ls", "--full-uri").stdout
    assert "secret://default/acme/alice/in-current" in listed, listed
    assert "secret://default/alice/in-none" in listed, listed
    # Removing with the same choices finds each one where it was put.
    assert neuro("secret", "rm", "--org", "NO_ORG", "in-none").exit_code == 0
    assert neuro("secret", "rm", "in-current").exit_code == 0
    listed = neuro("secret", "ls", "--full-uri").stdout
    assert "in-none" not in listed, listed
    assert "in-current" not in listed, listed


def test_disk_org_option_left_out_and_no_org(in_acme: Neuro) -> None:
    neuro = in_acme
    current = neuro("disk", "create", "1Mi", "--name", "disk-in-current")
    assert current.exit_code == 0, current.output
    none = neuro("disk", "create", "--org", "NO_ORG", "1Mi", "--name", "disk-in-none")
    assert none.exit_code == 0, none.output
    shown = neuro("disk", "get", "--full-uri", "disk-in-current")
    assert "disk://default/acme/alice/disk-" in shown.stdout, shown.output
    shown = neuro("disk", "get", "--full-uri", "disk-in-none")
    assert re.search(r"disk://default/alice/disk-", shown.stdout), shown.output


def test_run_org_no_org_while_an_org_is_selected(in_acme: Neuro) -> None:
    neuro = in_acme
    run = neuro(
        "run",
        "--detach",
        "--org",
        "NO_ORG",
        "--preset",
        "cpu-small",
        "--no-wait-start",
        "neuro-base/busybox:latest",
        "--",
        "true",
    )
    assert run.exit_code == 0, run.output
    job = re.search(r"job-[0-9a-f-]{36}", run.stdout)
    assert job is not None, run.stdout
    status = neuro("status", job.group())
    assert status.exit_code == 0, status.output
    assert "alice" in status.stdout, status.stdout
    assert not re.search(r"^Org\s", status.stdout, re.MULTILINE), status.stdout
    neuro("kill", job.group())


def test_x_trace_all_marks_every_request_sampled(
    shared_platform_server: PlatformServer, log_in: Callable[..., str], neuro: Neuro
) -> None:
    log_in(shared_platform_server)
    traced = neuro("--trace", "--x-trace-all", "ls", "storage:")
    assert traced.exit_code == 0, traced.output
    sampled = re.findall(r"sentry-trace: [0-9a-f]{32}-[0-9a-f]{16}-(\d?)", traced.stderr)
    assert sampled, traced.stderr
    assert set(sampled) == {"1"}, traced.stderr
    # Without it the server decides: the flag is left empty.
    plain = neuro("--trace", "ls", "storage:")
    assert set(re.findall(r"sentry-trace: [0-9a-f]{32}-[0-9a-f]{16}-(\d?)", plain.stderr)) == {""}
    # It needs no --trace: a plain command still works.
    assert neuro("--x-trace-all", "ls", "storage:").exit_code == 0


ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d")
PLAIN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@pytest.mark.parametrize(
    ("setup", "command"),
    [
        (("mkdir", "-p", "storage:iso-dir"), ("ls", "-l", "storage:")),
        (("disk", "create", "1Mi", "--name", "iso-disk"), ("disk", "get", "iso-disk")),
    ],
)
def test_iso_datetime_format_reaches_every_date(
    two_cluster_server: PlatformServer,
    log_in: Callable[..., str],
    neuro: Neuro,
    setup: tuple[str, ...],
    command: tuple[str, ...],
) -> None:
    log_in(two_cluster_server)
    made = neuro(*setup)
    assert made.exit_code == 0, made.output
    plain = neuro(*command)
    assert plain.exit_code == 0, plain.output
    assert PLAIN.search(plain.stdout), plain.stdout
    assert not ISO.search(plain.stdout), plain.stdout
    iso = neuro("--iso-datetime-format", *command)
    assert iso.exit_code == 0, iso.output
    assert ISO.search(iso.stdout), iso.stdout
    assert not PLAIN.search(iso.stdout), iso.stdout
    # The option is one invocation's: it does not stay set in the process that ran the CLI
    # (in-process callers, and the formatter tests after this one on the same worker).
    assert PLAIN.fullmatch(format_datetime(datetime.now(UTC)))
