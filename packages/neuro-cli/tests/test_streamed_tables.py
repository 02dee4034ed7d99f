"""``neuro ps`` and ``neuro ls -l`` print their tables in chunks as rows arrive; a listing
that fits in one chunk looks exactly like the single rich Table it replaced."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC
from io import StringIO

import pytest
from rich.console import Console, RenderableType
from rich.text import Text
from yarl import URL

from neuro_cli.formatters.jobs import format_jobs, parse_ps_format, print_jobs
from neuro_cli.formatters.storage import (
    format_long_listing,
    format_short_listing,
    print_long_listing,
    print_short_listing,
)
from neuro_sdk import Action, FileStatus, JobDescription, JobStatus
from neuro_sdk._storage_entities import FileStatusType

from .test_job_formatters import make_job


def console(width: int) -> tuple[Console, StringIO]:
    out = StringIO()
    return Console(file=out, width=width, color_system=None, highlight=False), out


def rich_render(renderable: RenderableType, width: int) -> str:
    target, out = console(width)
    target.print(renderable)
    return out.getvalue()


def jobs(count: int) -> list[JobDescription]:
    statuses = list(JobStatus)
    return [
        make_job(
            f"job-{index:04d}" + "x" * (index % 7),
            statuses[index % len(statuses)],
            name=f"name-{index}" if index % 3 else None,
            command="python -m a.very.long.module --flag " * (index % 4) or "true",
            reason="Error" if index % 5 == 0 else "",
        )
        for index in range(count)
    ]


async def aiter_of(items: list[JobDescription]) -> AsyncIterator[JobDescription]:
    for item in items:
        yield item


@pytest.mark.parametrize("width", [40, 80, 120, 250])
@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("spec", ["id name status when image owner command", "command id tags"])
@pytest.mark.parametrize("count", [0, 1, 37])
def test_ps_streamed_equals_one_table(width: int, wide: bool, spec: str, count: int) -> None:
    listing = jobs(count)
    columns = parse_ps_format(spec)
    target, out = console(width)

    asyncio.run(print_jobs(target, aiter_of(listing), columns=columns, wide=wide, tz=UTC))

    assert out.getvalue() == rich_render(
        format_jobs(listing, columns=columns, wide=wide, tz=UTC), width
    )


def files(count: int) -> list[FileStatus]:
    return [
        FileStatus(
            path=f"file {index}" + "-long" * (index % 9),
            size=index * 977,
            type=FileStatusType.DIRECTORY if index % 4 == 0 else FileStatusType.FILE,
            modification_time=1_700_000_000 + index % 3,
            permission=Action.MANAGE if index % 2 else Action.READ,
            uri=URL(f"storage://default/alice/d/file{index}"),
        )
        for index in range(count)
    ]


@pytest.mark.parametrize("width", [30, 80])
@pytest.mark.parametrize("human_readable", [False, True])
@pytest.mark.parametrize("count", [0, 1, 45])
def test_ls_long_streamed_equals_one_table(width: int, human_readable: bool, count: int) -> None:
    listing = files(count)
    target, out = console(width)

    print_long_listing(target, listing, human_readable=human_readable)

    assert out.getvalue() == rich_render(
        format_long_listing(listing, human_readable=human_readable), width
    )


def test_ps_prints_first_rows_before_the_last_job_arrives() -> None:
    listing = jobs(1200)
    target, out = console(120)
    seen_before_last: list[str] = []

    async def slow() -> AsyncIterator[JobDescription]:
        for index, job in enumerate(listing):
            if index == len(listing) - 1:
                seen_before_last.append(out.getvalue())
            yield job

    asyncio.run(print_jobs(target, slow(), tz=UTC))

    assert " job-0000 " in seen_before_last[0]
    assert " job-1199" not in seen_before_last[0]
    lines = out.getvalue().splitlines()
    # One header for the whole listing, one line per job (none wraps at this width).
    assert sum(line.startswith(" ID ") for line in lines) == 1
    assert len(lines) == 2 + len(listing)


def test_later_chunk_widens_a_column_instead_of_cutting_an_id() -> None:
    listing = jobs(600)
    listing.append(make_job("job-with-a-much-longer-id-than-the-rest", JobStatus.RUNNING))
    target, out = console(200)

    asyncio.run(print_jobs(target, aiter_of(listing), tz=UTC))

    assert " job-with-a-much-longer-id-than-the-rest " in out.getvalue()


def test_ps_streamed_colors_equal_one_table() -> None:
    listing = jobs(40)
    outs = StringIO(), StringIO()
    streamed, whole = (
        Console(file=out, width=120, force_terminal=True, color_system="standard") for out in outs
    )

    asyncio.run(print_jobs(streamed, aiter_of(listing), tz=UTC))
    whole.print(format_jobs(listing, tz=UTC))

    assert "\x1b[" in outs[0].getvalue()
    assert outs[0].getvalue() == outs[1].getvalue()


def test_control_codes_in_a_name_are_stripped_as_rich_strips_them() -> None:
    listing = [make_job("job-1", JobStatus.RUNNING, name="bell\x07\rname\ttab")]
    target, out = console(120)

    asyncio.run(print_jobs(target, aiter_of(listing), tz=UTC))

    assert out.getvalue() == rich_render(format_jobs(listing, tz=UTC), 120)
    assert "\x07" not in out.getvalue()
    assert "\r" not in out.getvalue()


@pytest.mark.parametrize("width", [12, 80])
def test_short_listing_equals_one_text(width: int) -> None:
    names = ["a", "short name", "x" * 30, "tab\there", "bell\x07", "ünïcode-名前", "y" * 11]
    statuses = [
        FileStatus(
            path=name,
            size=0,
            type=FileStatusType.FILE,
            modification_time=0,
            permission=Action.READ,
            uri=URL("storage://default/alice/x"),
        )
        for name in names
    ]

    assert rich_render(format_short_listing(statuses), width) == rich_render(
        Text("\n".join(names)), width
    )


def odd_file(name: str, index: int) -> FileStatus:
    return FileStatus(
        path=name,
        size=index % 1000,
        type=FileStatusType.FILE if index % 3 else FileStatusType.DIRECTORY,
        modification_time=1_700_000_000 + index % 5,
        permission=Action.WRITE,
        uri=URL("storage://default/alice/d") / name,
    )


@pytest.mark.parametrize("width", [40, 120])
@pytest.mark.parametrize("odd", ["", "ünï-名", "tab\tx", "bell\x07"])
def test_ls_long_plain_chunks_equal_one_table(width: int, odd: str) -> None:
    # 1,200 rows: three chunks, each as wide as the others (a single rich Table's layout),
    # all plain ASCII (formatted a chunk at a time) but for one odd name (row by row).
    listing = [odd_file(f"file {index:05d}", index) for index in range(1200)]
    if odd:
        listing[700] = odd_file(odd, 700)
    target, out = console(width)

    print_long_listing(target, listing, human_readable=False)

    assert out.getvalue() == rich_render(format_long_listing(listing, human_readable=False), width)


@pytest.mark.parametrize("width", [12, 80])
def test_short_listing_printed_uncropped_equals_one_text(width: int) -> None:
    odd = ["short name", "x" * 30, "tab\there", "bell\x07", "ünïcode-名前", "new\nline", ""]
    names = [f"name-{index:04d}" for index in range(700)]
    for index, name in enumerate(odd):
        names.insert(index * 97, name)  # runs of plain names cut anywhere
    target, out = console(width)

    print_short_listing(target, names)

    assert out.getvalue() == rich_render(Text("\n".join(names)), width)
