"""No log is lost: a job's output is archived while it runs, beyond what the engine retains
(Docker's `local` driver keeps about the last 80 MB of short lines), up to the per-job cap,
and across a platform restart in the middle of the output."""

from __future__ import annotations

import uuid
from pathlib import Path

from .client import JobsClient
from .conftest import ServerFactory, busybox_job

MIB = 1024**2
SEPARATOR = "<================ Live logs ==============>"
# 1,500,000 numbered lines of 98 to 104 bytes (~150 MB): the engine keeps only the last ~830,000.
BIG_LINES = 1_500_000
PADDING = b"0" * 90
BIG_JOB = 'awk "BEGIN{p=sprintf(\\"%090d\\",0); for(i=1;i<=' + str(BIG_LINES) + ';i++) print i, p}"'


def big_output() -> bytes:
    return b"".join(b"%d %s\n" % (i, PADDING) for i in range(1, BIG_LINES + 1))


def numbered(count: int) -> bytes:
    return b"".join(b"%d\n" % i for i in range(1, count + 1))


def first_difference(actual: bytes, expected: bytes) -> str:
    """A short description of where two outputs part (a 150 MB assertion diff is useless)."""
    if actual == expected:
        return "equal"
    common = next(
        (i for i, (a, b) in enumerate(zip(actual, expected, strict=False)) if a != b),
        min(len(actual), len(expected)),
    )
    return (
        f"{len(actual)} bytes, expected {len(expected)}; first difference at {common}: "
        f"{actual[common - 40 : common + 40]!r} vs {expected[common - 40 : common + 40]!r}"
    )


async def test_every_line_of_a_chatty_job_is_kept_and_streamed_without_a_gap(
    alice: JobsClient,
) -> None:
    job = await alice.submit(busybox_job(BIG_JOB))
    await alice.wait_for(job["id"], ["running", "succeeded"])
    live = await alice.logs(job["id"], separator=SEPARATOR)  # opened while it prints
    expected = big_output()
    assert live == expected, first_difference(live, expected)
    await alice.wait_for(job["id"], ["succeeded"])
    await alice.wait_until_collected(job["id"])
    archived = await alice.logs(job["id"], separator=SEPARATOR)
    assert archived == expected, first_difference(archived, expected)


async def test_the_cap_keeps_exactly_the_first_bytes_and_says_so(
    make_server: ServerFactory, busybox_image: str
) -> None:
    with make_server(log_cap_bytes=MIB) as server:
        async with JobsClient(server, "alice") as alice:
            job = await alice.submit(busybox_job("seq 1 1500000; echo after-the-cap"))
            await alice.wait_for(job["id"], ["succeeded"])
            await alice.wait_until_collected(job["id"])
            output = await alice.logs(job["id"])
            stamped = await alice.logs(job["id"], timestamps="true")
    kept = numbered(1_500_000)[:MIB]
    assert not kept.endswith(b"\n")  # the cap cuts a line: it ends there
    marker = b"[neuro] log cap of 1048576 bytes reached; later output dropped\n"
    assert output == kept + b"\n" + marker, first_difference(output, kept + b"\n" + marker)
    assert stamped.splitlines()[-1].split(b" ", 1)[1] == marker.rstrip()


async def test_a_platform_restart_while_a_job_prints_loses_and_repeats_nothing(
    make_server: ServerFactory, busybox_image: str, tmp_path: Path
) -> None:
    instance = f"test-{uuid.uuid4().hex[:12]}"
    directory = tmp_path / "platform"
    directory.mkdir()
    lines = 60_000
    # 1,000 lines every 0.25 s: it prints before, while and after the platform is down.
    command = (
        f'awk "BEGIN{{for(i=1;i<={lines};i++){{print i; if(i%1000==0){{fflush(); '
        f'system(\\"sleep 0.25\\")}}}}}}"'
    )
    with make_server(instance=instance, tmp_path=directory) as server:
        async with JobsClient(server, "alice") as alice:
            job = await alice.submit(busybox_job(command))
            await alice.wait_for(job["id"], ["running"])
            async with alice.session.get(alice.jobs_url / job["id"] / "log") as response:
                while await response.content.readline() != b"2000\n":
                    pass
    # A crash in the middle of a write leaves a cut line at the archive's end.
    (archive,) = directory.rglob(f"job-logs/{job['id']}.log")
    with archive.open("ab") as f:
        f.write(b"2099-01-01T00:00:00.000000000Z 99999")
    with make_server(instance=instance, tmp_path=directory, restart=True) as server:
        async with JobsClient(server, "alice") as alice:
            assert (await alice.get(job["id"]))["status"] == "running", "it ended too soon"
            live = await alice.logs(job["id"], separator=SEPARATOR)
            await alice.wait_for(job["id"], ["succeeded"])
            await alice.wait_until_collected(job["id"])
            archived = await alice.logs(job["id"])
    assert live == numbered(lines), first_difference(live, numbered(lines))
    assert archived == numbered(lines), first_difference(archived, numbered(lines))


async def test_a_restarting_job_keeps_every_run(alice: JobsClient) -> None:
    job = await alice.submit(busybox_job("seq 1 3; sleep 1; exit 1", restart_policy="on-failure"))
    await alice.wait_for_restarts(job["id"], 2)
    await alice.kill(job["id"])
    await alice.wait_until_collected(job["id"])
    output = await alice.logs(job["id"])
    runs = output.count(b"1\n2\n3\n")
    assert runs >= 3
    assert output == b"1\n2\n3\n" * runs


async def test_long_lines_and_a_last_line_without_newline_come_back_as_printed(
    alice: JobsClient,
) -> None:
    job = await alice.submit(
        busybox_job('head -c 40000 /dev/zero | tr "\\0" a; echo; printf no-newline')
    )
    await alice.wait_for(job["id"], ["succeeded"])
    await alice.wait_until_collected(job["id"])
    assert await alice.logs(job["id"]) == b"a" * 40000 + b"\nno-newline\n"
