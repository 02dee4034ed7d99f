"""Every `neuro run` option of the issue reaches the job, `--wait-for-seat` waits for the
running-jobs quota, and `neuro kill` takes several jobs at once (our server, real dockerd)."""

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from neuro_platform.testing.server import PlatformServer, running_jobs_platform

BUSYBOX = "neuro-base/busybox:latest"
INSTANCE = "cli-run-options-tests"
Neuro = Callable[..., Result]
JOB_ID = re.compile(r"job-[0-9a-f-]{36}")
# Its server (one running job per user) is its own, so the docker marker is not implied.
pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def quota_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    # One running job per user: what --wait-for-seat is about.
    directory = tmp_path_factory.mktemp("server")
    users = {"alice": "alice-password", "bob": "bob-password"}
    with running_jobs_platform(
        directory,
        INSTANCE,
        users=users,
        config={"jobs": {"max_running_jobs_per_user": 1, "poll_interval_s": 0.2}},
    ) as server:
        yield server


@pytest.fixture
def neuro_alice(
    quota_server: PlatformServer, neuro: Neuro, log_in: Callable[[PlatformServer], str]
) -> Iterator[Neuro]:
    log_in(quota_server)
    yield neuro
    # One seat per user: a test that failed midway must not hold it for the next ones.
    unfinished = JOB_ID.findall(neuro("ps", "--format", "id").stdout)
    if unfinished:
        neuro("kill", *unfinished)


def job_id_of(result: Result) -> str:
    assert result.exit_code == 0, result.output
    found = JOB_ID.search(result.stdout)
    assert found is not None, result.stdout
    return found.group()


def wait_for_status(neuro: Neuro, job: str, status: str) -> str:
    # No deadline of our own: the per-test timeout stops a job that never gets there.
    while True:
        result = neuro("status", job)
        assert result.exit_code == 0, result.output
        if re.search(rf"Status\s+{status}", result.stdout):
            return str(result.stdout)
        assert not re.search(r"Status\s+(succeeded|failed|cancelled)", result.stdout), result.stdout
        time.sleep(0.2)


def test_every_run_option_reaches_the_job(neuro_alice: Neuro, tmp_path: Path) -> None:
    env_file = tmp_path / "job.env"
    env_file.write_text("FROM_FILE=file-value\n")
    script = 'echo "$FROM_ARG $FROM_FILE cwd=$(pwd) cfg=${NEURO_PASSED_CONFIG:+yes}"'

    run = neuro_alice(
        "run",
        "--detach",
        "--preset",
        "cpu-small",
        "--name",
        "every-option",
        "--tag",
        "first",
        "--tag",
        "second",
        "--description",
        "a job with every option",
        "-e",
        "FROM_ARG=arg-value",
        "--env-file",
        str(env_file),
        "--http-port",
        "8080",
        "--no-http-auth",
        "--life-span",
        "2h30m",
        "--restart",
        "on-failure",
        "--priority",
        "high",
        "--schedule-timeout",
        "5m",
        "--wait-for-seat",
        "--pass-config",
        "--entrypoint",
        "sh",
        "--workdir",
        "/tmp",
        BUSYBOX,
        "--",
        "-c",
        script,
    )
    job_id = job_id_of(run)
    # --detach returns at once with hints instead of following the output.
    assert "neuro logs every-option" in run.stdout

    status = wait_for_status(neuro_alice, "every-option", "succeeded")
    expected = [
        r"Name\s+every-option",
        r"Description\s+a job with every option",
        r"Tags\s+first, second",
        r"Preset\s+cpu-small",
        r"Entrypoint\s+sh",
        r"Working dir\s+/tmp",
        r"Priority\s+high",
        r"Restart policy\s+on-failure",
        r"Life span\s+2h30m",
        r"Schedule timeout\s+5m",
        r"Http URL\s+http://every-option--alice\.jobs\.localhost:\d+ \(port 8080, without auth\)",
        r"Env FROM_ARG\s+arg-value",
        r"Env FROM_FILE\s+file-value",
    ]
    for pattern in expected:
        assert re.search(pattern, status), (pattern, status)
    logs = neuro_alice("logs", job_id)
    assert logs.stdout == "arg-value file-value cwd=/tmp cfg=yes\n"


def test_privileged_is_refused_with_one_line_unless_granted(neuro_alice: Neuro) -> None:
    # Clusters allow no privileged containers by default (docs/security.md); the grant and
    # the container an allowed job gets are tested with the server (tests/jobs/test_hardening.py).
    result = neuro_alice("run", "--detach", "--privileged", BUSYBOX, "true")

    assert result.exit_code != 0
    assert "Privileged jobs are not allowed on cluster 'default'" in result.output
    assert "Traceback" not in result.output
    assert JOB_ID.findall(neuro_alice("ps", "--format", "id").stdout) == []  # nothing was created


def test_wait_for_seat_waits_for_the_quota_instead_of_failing(neuro_alice: Neuro) -> None:
    holder = job_id_of(neuro_alice("run", "--detach", "-n", "seat-holder", BUSYBOX, "sleep", "600"))
    wait_for_status(neuro_alice, holder, "running")

    refused = neuro_alice("run", "--detach", BUSYBOX, "true")
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith("ERROR: ")
    assert "quota" in refused.stderr

    waiter = job_id_of(
        neuro_alice(
            "run", "--detach", "--wait-for-seat", "-n", "seat-waiter", BUSYBOX, "echo", "seated"
        )
    )
    wait_for_status(neuro_alice, waiter, r"pending \(QuotaExhausted\)")
    assert neuro_alice("kill", "seat-holder").exit_code == 0
    wait_for_status(neuro_alice, waiter, "succeeded")
    assert neuro_alice("logs", "seat-waiter").stdout == "seated\n"


def test_kill_takes_several_ids_and_names(neuro_alice: Neuro) -> None:
    running = job_id_of(neuro_alice("run", "--detach", "-n", "kill-me-1", BUSYBOX, "sleep", "600"))
    waiting = job_id_of(
        neuro_alice(
            "run", "--detach", "--wait-for-seat", "-n", "kill-me-2", BUSYBOX, "sleep", "600"
        )
    )
    wait_for_status(neuro_alice, running, "running")

    kill = neuro_alice("kill", running, "kill-me-2", "no-such-job")

    # The known ones are killed and printed; the unknown one is one error line and exit 1.
    assert kill.exit_code == 1, kill.output
    assert kill.stdout.split() == [running, waiting]
    assert kill.stderr.strip().splitlines() == [
        line for line in kill.stderr.strip().splitlines() if "no-such-job" in line
    ]
    assert len(kill.stderr.strip().splitlines()) == 1
    for job_id in (running, waiting):
        assert "UserRequested" in wait_for_status(neuro_alice, job_id, "cancelled")
