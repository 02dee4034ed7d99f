"""Job formatters rendered into a fixed-width console (times in UTC)."""

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from rich.console import Console, RenderableType
from yarl import URL

from neuro_cli.commands.job import parse_duration, parse_moment
from neuro_cli.formatters.jobs import (
    format_duration,
    format_job_status,
    format_jobs,
    format_telemetry,
    parse_ps_format,
)
from neuro_sdk import (
    Container,
    HTTPPort,
    JobDescription,
    JobStatus,
    JobStatusHistory,
    JobTelemetry,
    RemoteImage,
    Resources,
)

T0 = datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)


def render(renderable: RenderableType, width: int = 100) -> str:
    out = StringIO()
    Console(file=out, width=width, color_system=None, highlight=False).print(renderable)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"


def make_job(
    job_id: str,
    status: JobStatus,
    *,
    name: str | None = None,
    command: str = "sleep 1",
    reason: str = "",
    exit_code: int | None = None,
) -> JobDescription:
    finished = T0.replace(minute=5) if status.is_finished else None
    return JobDescription(
        id=job_id,
        owner="alice",
        cluster_name="default",
        status=status,
        history=JobStatusHistory(
            status=status,
            reason=reason,
            description="",
            created_at=T0,
            started_at=T0.replace(second=3),
            finished_at=finished,
            exit_code=exit_code,
        ),
        container=Container(
            image=RemoteImage.new_external_image("neuro-base/busybox", tag="latest"),
            resources=Resources(memory_mb=512, cpu=0.5, shm=False),
            command=command,
        ),
        scheduler_enabled=False,
        pass_config=False,
        uri=URL(f"job://default/alice/{job_id}"),
        total_price_credits=Decimal("0"),
        price_credits_per_hour=Decimal("0"),
        name=name,
        preset_name="cpu-small",
        life_span=86400.0,
    )


def test_ps_table() -> None:
    jobs = [
        make_job("job-1", JobStatus.RUNNING, name="web"),
        make_job("job-2", JobStatus.FAILED, reason="Error", exit_code=3, command="sh -c 'exit 3'"),
    ]

    assert (
        render(format_jobs(jobs, tz=UTC), width=120)
        == (
            " ID      NAME   STATUS           WHEN                  IMAGE                       OWNER   COMMAND\n"  # noqa: E501
            + "━" * 106
            + "\n"
            " job-1   web    running          2024-03-01 10:00:03   neuro-base/busybox:latest   alice   sleep 1\n"  # noqa: E501
            " job-2          failed (Error)   2024-03-01 10:05:00   neuro-base/busybox:latest   alice   sh -c 'exit 3'\n"  # noqa: E501
        )
    )


def test_ps_custom_columns_and_wide() -> None:
    job = make_job("job-1", JobStatus.PENDING, command="python -m a.very.long.module --flag")

    rendered = render(
        format_jobs([job], columns=parse_ps_format("id, command, preset"), wide=True, tz=UTC),
        width=40,
    )

    # --wide folds a long command over lines instead of cutting it.
    assert rendered == (
        " ID      COMMAND              PRESET\n" + "━" * 40 + "\n"
        " job-1   python -m            cpu-small\n"
        "         a.very.long.module\n"
        "         --flag\n"
    )
    narrow = render(format_jobs([job], columns=parse_ps_format("id command"), tz=UTC), width=40)
    assert narrow.splitlines()[2] == " job-1   python -m a.very.long.module …"


def test_unknown_ps_column_is_an_error() -> None:
    with pytest.raises(ValueError, match="bogus"):
        parse_ps_format("id bogus")


def test_status_view() -> None:
    job = make_job("job-2", JobStatus.FAILED, name="trainer", reason="OOMKilled", exit_code=137)
    job = JobDescription(
        **{
            **job.__dict__,
            "container": Container(
                image=job.container.image,
                resources=job.container.resources,
                command="python train.py",
                http=HTTPPort(8080, requires_auth=True),
                env={"MODE": "fast"},
            ),
            "http_url": URL("http://trainer--alice.jobs.local"),
        }
    )

    assert render(format_job_status(job, tz=UTC)) == (
        "Job              job-2\n"
        "Name             trainer\n"
        "Owner            alice\n"
        "Cluster          default\n"
        "Status           failed (OOMKilled)\n"
        "Image            neuro-base/busybox:latest\n"
        "Command          python train.py\n"
        "Preset           cpu-small\n"
        "Resources        0.5 CPU, 512 MiB\n"
        "Priority         normal\n"
        "Restart policy   never\n"
        "Life span        1d\n"
        "Http URL         http://trainer--alice.jobs.local (port 8080, with auth)\n"
        "Env MODE         fast\n"
        "Created          2024-03-01 10:00:00\n"
        "Started          2024-03-01 10:00:03\n"
        "Finished         2024-03-01 10:05:00\n"
        "Exit code        137\n"
    )


def test_top_sample() -> None:
    sample = JobTelemetry(cpu=0.25, memory=12.5, timestamp=T0.timestamp())

    assert render(format_telemetry("job-1", sample, tz=UTC)) == (
        " JOB     TIME                    CPU   MEMORY (MB)   GPU (%)   GPU MEMORY (MB)\n"
        + "━" * 79
        + "\n"
        " job-1   2024-03-01 10:00:00   0.250          12.5         0                 0\n"
    )


def test_durations() -> None:
    assert parse_duration("1d2h3m4s") == 93784
    assert parse_duration("90") == 90
    assert parse_duration("45m") == 2700
    assert format_duration(93784) == "1d2h3m4s"
    assert format_duration(0) == "0s"
    now = datetime(2024, 3, 2, tzinfo=UTC)
    assert parse_moment("1d", now) == datetime(2024, 3, 1, tzinfo=UTC)
    assert parse_moment("2024-03-01T10:00") == datetime(2024, 3, 1, 10, 0)
