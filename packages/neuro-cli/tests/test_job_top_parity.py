"""`neuro top` as 22.x has it (issue #16, CLI part): several jobs in one table, the job
filters, --sort, --format, --timeout; against our server and the real dockerd."""

import re
import time
from collections.abc import Callable

import pytest
from click.testing import Result

from neuro_platform.testing.server import PlatformServer

BUSYBOX = "neuro-base/busybox:latest"
Neuro = Callable[..., Result]
JOB_ID = re.compile(r"job-[0-9a-f-]{36}")


@pytest.fixture
def neuro_alice(
    jobs_platform_server: PlatformServer, neuro: Neuro, log_in: Callable[[PlatformServer], str]
) -> Neuro:
    log_in(jobs_platform_server)
    return neuro


def start(neuro: Neuro, *args: str) -> str:
    result = neuro("run", "--detach", *args)
    assert result.exit_code == 0, result.output
    found = JOB_ID.search(result.stdout)
    assert found is not None
    return found.group()


def wait_running(neuro: Neuro, job: str) -> None:
    # No deadline of our own: the per-test timeout stops a job that never gets there.
    while not re.search(r"Status\s+running", neuro("status", job).stdout):
        time.sleep(0.2)


def test_top_of_several_jobs_ends_when_they_end(neuro_alice: Neuro) -> None:
    jobs = [start(neuro_alice, "-n", f"top-{n}", BUSYBOX, "sleep", "4") for n in (1, 2)]
    for job in jobs:
        wait_running(neuro_alice, job)

    top = neuro_alice("top", "--sort", "-memory,name", "--format", "id name cpu memory", *jobs)

    assert top.exit_code == 0, top.output
    assert "MEMORY (MB)" in top.stdout
    assert "GPU" not in top.stdout
    assert set(JOB_ID.findall(top.stdout)) == set(jobs)


def test_top_by_filters_until_the_timeout(neuro_alice: Neuro) -> None:
    tagged = start(neuro_alice, "--tag", "top-filter", BUSYBOX, "sleep", "600")
    other = start(neuro_alice, BUSYBOX, "sleep", "600")
    try:
        wait_running(neuro_alice, tagged)
        wait_running(neuro_alice, other)

        # --timeout is how it ends: 22.x's exit code for that.
        top = neuro_alice("top", "-t", "top-filter", "--owner", "ME", "--timeout", "10")

        assert top.exit_code == 124, top.output
        assert set(JOB_ID.findall(top.stdout)) == {tagged}
    finally:
        neuro_alice("kill", tagged, other)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("top", "job-00000000-0000-4000-8000-000000000000", "-n", "x"), "mutually exclusive"),
        (("top", "--owner", "ALL", "--owner", "bob"), "incompatible"),
        (("top", "--sort", "bogus"), "Unknown sort column 'bogus'"),
        (("top", "--format", "id bogus"), "bogus"),
        (("top", "--timeout", "-1"), "-1"),
    ],
)
def test_bad_top_options_are_one_line(
    neuro_alice: Neuro, args: tuple[str, ...], message: str
) -> None:
    result = neuro_alice(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("ERROR: "), lines
    assert message in lines[0], lines
