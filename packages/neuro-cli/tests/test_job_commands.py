"""neuro run/ps/status/logs/kill/top/bump-life-span against our server and the real dockerd."""

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


def wait_for_status(neuro: Neuro, job: str, status: str) -> str:
    # No deadline of our own: the per-test timeout stops a job that never gets there.
    while True:
        result = neuro("status", job)
        assert result.exit_code == 0, result.output
        if re.search(rf"Status\s+{status}", result.stdout):
            return str(result.stdout)
        time.sleep(0.2)


@pytest.mark.both_orchestrators
def test_run_follows_the_output_and_returns_the_exit_code(neuro_alice: Neuro) -> None:
    result = neuro_alice("run", BUSYBOX, "sh", "-c", "echo hello from the job; exit 3")

    assert result.exit_code == 3, result.output
    assert "hello from the job\n" in result.stdout
    assert JOB_ID.search(result.stdout)


@pytest.mark.both_orchestrators
def test_run_then_ps_status_logs(neuro_alice: Neuro) -> None:
    run = neuro_alice("run", "-n", "cli-echo", "--tag", "cli", BUSYBOX, "echo", "hi there")
    assert run.exit_code == 0, run.output
    assert "hi there\n" in run.stdout
    job_id = JOB_ID.search(run.stdout)
    assert job_id is not None

    ps = neuro_alice("ps", "-a", "-t", "cli", "--format", "id name status")
    assert ps.exit_code == 0, ps.output
    assert re.search(rf"{job_id.group()}\s+cli-echo\s+succeeded", ps.stdout)
    # Finished jobs are hidden without -a.
    assert job_id.group() not in neuro_alice("ps").stdout

    status = neuro_alice("status", "cli-echo")
    assert status.exit_code == 0, status.output
    assert re.search(r"Status\s+succeeded", status.stdout)
    assert re.search(r"Exit code\s+0", status.stdout)

    logs = neuro_alice("logs", "job:cli-echo")
    assert logs.exit_code == 0, logs.output
    assert logs.stdout == "hi there\n"


@pytest.mark.both_orchestrators
def test_detach_ps_top_bump_and_kill(neuro_alice: Neuro) -> None:
    run = neuro_alice(
        "run", "--detach", "-n", "sleeper", "--life-span", "1h", BUSYBOX, "sleep", "600"
    )
    assert run.exit_code == 0, run.output
    job_id = JOB_ID.search(run.stdout)
    assert job_id is not None
    wait_for_status(neuro_alice, "sleeper", "running")

    ps = neuro_alice("ps")
    assert re.search(rf"{job_id.group()}\s+sleeper\s+running", ps.stdout)

    bump = neuro_alice("job", "bump-life-span", "sleeper", "30m")
    assert bump.exit_code == 0, bump.output
    assert re.search(r"Life span\s+1h30m", neuro_alice("status", job_id.group()).stdout)

    kill = neuro_alice("kill", "sleeper")
    assert kill.exit_code == 0, kill.output
    assert kill.stdout.strip() == job_id.group()
    assert "UserRequested" in wait_for_status(neuro_alice, job_id.group(), "cancelled")


@pytest.mark.both_orchestrators
def test_top_shows_usage_until_the_job_ends(neuro_alice: Neuro) -> None:
    run = neuro_alice("job", "run", "--detach", "-n", "busy", BUSYBOX, "sh", "-c", "sleep 3")
    assert run.exit_code == 0, run.output
    wait_for_status(neuro_alice, "busy", "running")

    top = neuro_alice("top", "busy")

    assert top.exit_code == 0, top.output
    assert "MEMORY (MB)" in top.stdout
    assert JOB_ID.search(top.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("status", "no-such-job"), "no-such-job"),
        (("logs", "job-00000000-0000-4000-8000-000000000000"), "not"),
        (("kill", "no-such-job"), "no-such-job"),
        (("run", "-s", "bogus", BUSYBOX, "true"), "Preset 'bogus'"),
        (("run", "Not A Valid Image!", "true"), "Invalid local image"),
        (("run", "-n", "Bad_Name", BUSYBOX, "true"), "ERROR"),
    ],
)
def test_user_errors_are_one_line(neuro_alice: Neuro, args: tuple[str, ...], message: str) -> None:
    result = neuro_alice(*args)

    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ERROR: ")
    assert message in lines[0]


def test_a_missing_image_fails_the_job_with_its_reason(neuro_alice: Neuro) -> None:
    result = neuro_alice("run", "neuro-base/no-such-image:1", "true")

    assert result.exit_code == 1, result.output
    assert re.search(r"failed \((ErrImagePull|ImagePullBackOff|InvalidImageName)\)", result.stderr)
