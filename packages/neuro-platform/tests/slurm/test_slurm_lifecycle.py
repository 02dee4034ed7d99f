"""Jobs on the two-node Slurm cluster: run, outcome, logs, signals, both nodes, bad input."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import PurePosixPath

import pytest

from neuro_platform.orchestrator import (
    BindMount,
    ContainerNotFoundError,
    ContainerNotRunningError,
    ContainerPhase,
    ContainerSpec,
    InvalidImageNameError,
    JobReason,
    SlurmOrchestrator,
)
from neuro_platform.orchestrator.slurm_logs import stamp_time
from neuro_platform.orchestrator.testing import collect_logs
from neuro_platform.settings import SlurmSettings

from .conftest import first_output

pytestmark = pytest.mark.slurm

MakeSpec = Callable[..., ContainerSpec]


async def wait_running(orchestrator: SlurmOrchestrator, job_id: str) -> None:
    while (state := await orchestrator.state(job_id)).phase is not ContainerPhase.RUNNING:
        assert not state.is_finished, state
        await asyncio.sleep(0.1)


async def test_job_runs_to_its_exit_code_with_its_output(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    spec = make_spec("sh", "-c", "echo out; echo err >&2; exit 3", env={"GREETING": "hi"})
    started = await orchestrator.start(spec)
    # A job this short may have ended by the time start reads its state (a quiet machine).
    assert started.phase in (ContainerPhase.PENDING, ContainerPhase.RUNNING, ContainerPhase.EXITED)

    final = await orchestrator.wait(spec.job_id)

    assert final.phase is ContainerPhase.EXITED
    assert (final.exit_code, final.reason) == (3, JobReason.ERROR)
    assert final.started_at is not None
    assert final.finished_at is not None
    assert final.finished_at >= final.started_at
    logs = await collect_logs(orchestrator, spec.job_id)
    assert sorted(logs.splitlines()) == [b"err", b"out"]
    assert [s.job_id for s in await orchestrator.list_managed()] == [spec.job_id]


async def test_success_is_completed_and_env_reaches_the_container(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    spec = make_spec("sh", "-c", 'echo "$GREETING"', env={"GREETING": "it's a $HOME `x`"})
    await orchestrator.start(spec)
    final = await orchestrator.wait(spec.job_id)
    assert (final.exit_code, final.reason) == (0, JobReason.COMPLETED)
    assert await collect_logs(orchestrator, spec.job_id) == b"it's a $HOME `x`\n"


async def test_start_is_idempotent_per_job_id(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec, slurm_settings: object
) -> None:
    spec = make_spec("sh", "-c", "echo once")
    await orchestrator.start(spec)
    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)
    assert await collect_logs(orchestrator, spec.job_id) == b"once\n"


async def test_followed_logs_have_every_line_with_timestamps_and_end_at_exit(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    spec = make_spec("sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.3; done")
    await orchestrator.start(spec)

    followed = await collect_logs(orchestrator, spec.job_id, follow=True, timestamps=True)

    lines = followed.splitlines()
    assert [line.split(b" ", 1)[1] for line in lines] == [b"line 1", b"line 2", b"line 3"]
    assert all(line.split(b" ", 1)[0].endswith(b"Z") for line in lines)
    assert (await orchestrator.state(spec.job_id)).is_finished
    assert await collect_logs(orchestrator, spec.job_id, tail=1) == b"line 3\n"
    # `since` a line's own stamp includes that line (how the log archiver resumes).
    second = stamp_time(lines[1].split(b" ", 1)[0])
    since = await collect_logs(orchestrator, spec.job_id, since=second)
    assert since == b"line 2\nline 3\n"
    later = await collect_logs(orchestrator, spec.job_id, since=second + timedelta(days=1))
    assert later == b""


async def test_a_long_line_comes_back_whole(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    spec = make_spec("sh", "-c", "head -c 40000 /dev/zero | tr '\\0' x; echo; echo end")
    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)
    assert await collect_logs(orchestrator, spec.job_id) == b"x" * 40000 + b"\nend\n"


async def test_sigterm_reaches_the_container(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    spec = make_spec(
        "sh", "-c", "trap 'echo got TERM; exit 5' TERM; echo ready; while :; do sleep 0.1; done"
    )
    await orchestrator.start(spec)
    await wait_running(orchestrator, spec.job_id)

    await orchestrator.kill(spec.job_id, signal="SIGTERM")

    final = await orchestrator.wait(spec.job_id)
    assert final.exit_code == 5
    assert b"got TERM" in await collect_logs(orchestrator, spec.job_id)
    with pytest.raises(ContainerNotRunningError):
        await orchestrator.kill(spec.job_id, signal="SIGTERM")


async def test_sigkill_ends_the_job_and_its_container(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    # The container ignores SIGTERM: only SIGKILL (the Slurm job's end) stops it.
    spec = make_spec("sh", "-c", "trap '' TERM; while :; do sleep 0.1; done")
    await orchestrator.start(spec)
    await wait_running(orchestrator, spec.job_id)

    await orchestrator.kill(spec.job_id)

    final = await orchestrator.wait(spec.job_id)
    assert final.phase is ContainerPhase.EXITED
    assert final.exit_code != 0


async def test_stop_escalates_to_kill_after_the_grace_period(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    spec = make_spec("sh", "-c", "trap '' TERM; while :; do sleep 0.1; done")
    await orchestrator.start(spec)
    await wait_running(orchestrator, spec.job_id)
    await orchestrator.stop(spec.job_id, timeout_s=0.5)
    assert (await orchestrator.wait(spec.job_id)).is_finished


async def test_jobs_that_fill_a_node_land_on_both_nodes(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    # Each node has 2 CPUs: two 2-CPU jobs cannot share one; a third waits for Resources.
    specs = [make_spec("sh", "-c", "hostname; sleep 600", cpu=2) for _ in range(2)]
    for spec in specs:
        await orchestrator.start(spec)
    for spec in specs:
        await wait_running(orchestrator, spec.job_id)
    waiting = make_spec("true", cpu=2)
    # start() returns once the container runs: Slurm holds this one until a node is free.
    starting = asyncio.create_task(orchestrator.start(waiting))
    while True:
        try:
            pending = await orchestrator.state(waiting.job_id)
        except ContainerNotFoundError:  # not submitted yet
            await asyncio.sleep(0.1)
            continue
        if "PENDING (None)" not in (pending.message or ""):  # looked at by Slurm
            break
        await asyncio.sleep(0.1)
    assert pending.phase is ContainerPhase.PENDING, pending
    assert not starting.done()
    assert pending.reason is JobReason.SCHEDULING
    assert pending.message in ("Slurm: PENDING (Resources)", "Slurm: PENDING (Priority)")

    addresses = {(await orchestrator.state(spec.job_id)).address for spec in specs}
    hosts = set()
    for spec in specs:
        hosts.add((await first_output(orchestrator, spec.job_id)).strip())
        await orchestrator.kill(spec.job_id)
    assert hosts == {b"node1", b"node2"}
    assert addresses == {"10.219.0.11", "10.219.0.12"}
    assert (await starting).phase is not ContainerPhase.PENDING
    assert (await orchestrator.wait(waiting.job_id)).exit_code == 0


async def test_memory_limit_kills_with_oom(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    # `tail` holds 200 MiB of one line: the kernel kills it at the job's 32 MiB.
    spec = make_spec("sh", "-c", "head -c 200m /dev/zero | tail > /dev/null", memory=32 * 1024**2)
    await orchestrator.start(spec)
    final = await orchestrator.wait(spec.job_id)
    assert (final.exit_code, final.reason, final.oom_killed) == (137, JobReason.OOM_KILLED, True)


async def test_a_job_that_kills_itself_is_not_oom_killed(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    # Exit 137 like an OOM kill, after using half its limit, but no OOM: a child killed by
    # SIGKILL (PID 1 of a container cannot be, from inside), whose status the job passes on.
    kill = "head -c 16m /dev/zero | tail >/dev/null; sh -c 'kill -9 $$'; exit $?"
    spec = make_spec("sh", "-c", kill, memory=32 * 1024**2)
    await orchestrator.start(spec)
    final = await orchestrator.wait(spec.job_id)
    assert (final.exit_code, final.reason, final.oom_killed) == (137, JobReason.ERROR, False)


async def test_a_job_cannot_lift_its_memory_limit(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    # The limit (memory and memory+swap) is on a cgroup above the container's: raising the
    # container's own would change nothing (and its cgroup files are read-only anyway).
    lift = "for f in /sys/fs/cgroup/memory/memory.*limit_in_bytes; do echo -1 >$f; done"
    show = (
        "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max 2>/dev/null"
        " || sed -n 's/^hierarchical_mem.*_limit //p' /sys/fs/cgroup/memory/memory.stat"
    )
    hog = "head -c 200m /dev/zero | tail >/dev/null"
    spec = make_spec("sh", "-c", f"{lift} 2>/dev/null; {show}; {hog}", memory=32 * 1024**2)
    await orchestrator.start(spec)
    final = await orchestrator.wait(spec.job_id)
    assert (final.reason, final.oom_killed) == (JobReason.OOM_KILLED, True)
    limits = (await collect_logs(orchestrator, spec.job_id)).split()[:2]  # then sh's "Killed"
    assert limits in ([b"33554432", b"33554432"], [b"33554432", b"0"]), limits  # v1, v2


async def test_a_missing_image_fails_with_err_image_pull(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    spec = make_spec("true", image="127.0.0.1:9/nowhere/missing:1")
    await orchestrator.start(spec)
    final = await orchestrator.wait(spec.job_id)
    assert final.reason is JobReason.ERR_IMAGE_PULL
    assert final.message


async def test_a_missing_executable_cannot_run(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    spec = make_spec("/no/such/program")
    await orchestrator.start(spec)
    final = await orchestrator.wait(spec.job_id)
    assert final.reason is JobReason.CONTAINER_CANNOT_RUN
    assert final.message
    assert "no/such/program" in final.message


async def test_hostile_job_ids_and_image_names_are_refused(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    with pytest.raises(ValueError, match="Invalid job id"):
        await orchestrator.start(make_spec("true", job_id="../../etc"))
    with pytest.raises(InvalidImageNameError):
        await orchestrator.start(make_spec("true", image="UPPER;rm -rf /"))
    with pytest.raises(ContainerNotFoundError):
        await orchestrator.state("job-unknown")
    with pytest.raises(ValueError, match="Unknown signal"):
        await orchestrator.kill("job-unknown", signal="SIGNOPE")
    assert await orchestrator.list_managed() == []


async def test_remove_ends_a_running_job_and_forgets_it(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec
) -> None:
    spec = make_spec("sleep", "600")
    await orchestrator.start(spec)
    await wait_running(orchestrator, spec.job_id)
    await orchestrator.remove(spec.job_id)
    with pytest.raises(ContainerNotFoundError):
        await orchestrator.state(spec.job_id)
    # A restart under the same id is a fresh run.
    await orchestrator.start(spec.__class__(**{**spec.__dict__, "command": ("echo", "again")}))
    await orchestrator.wait(spec.job_id)
    assert await collect_logs(orchestrator, spec.job_id) == b"again\n"


async def test_a_bind_mount_on_the_shared_filesystem_is_seen_and_written(
    orchestrator: SlurmOrchestrator, make_spec: MakeSpec, slurm_settings: SlurmSettings
) -> None:
    storage = slurm_settings.shared_dir / "storage-test" / uuid.uuid4().hex
    (storage / "in").mkdir(parents=True)
    (storage / "in" / "data.txt").write_text("input\n")
    (storage / "out").mkdir()
    spec = make_spec(
        "sh",
        "-c",
        "cat /in/data.txt > /out/copy.txt; (echo x > /in/nope) 2>/dev/null || echo read-only",
        bind_mounts=(
            BindMount(storage / "in", PurePosixPath("/in"), read_only=True),
            BindMount(storage / "out", PurePosixPath("/out"), read_only=False),
        ),
    )
    try:
        await orchestrator.start(spec)
        assert (await orchestrator.wait(spec.job_id)).exit_code == 0
        assert (storage / "out" / "copy.txt").read_text() == "input\n"
        assert not (storage / "in" / "nope").exists()
        assert await collect_logs(orchestrator, spec.job_id) == b"read-only\n"
    finally:
        shutil.rmtree(storage.parent, ignore_errors=True)


@pytest.mark.timeout(300)  # Slurm looks at time limits about once a minute
async def test_slurms_time_limit_ends_the_job_as_its_life_span(
    orchestrator: SlurmOrchestrator, make_spec: Callable[..., ContainerSpec]
) -> None:
    # One second of life span: Slurm's shortest limit, a minute, ends it (Slurm's TIMEOUT).
    spec = make_spec("sleep", "600", time_limit_s=1.0)
    await orchestrator.start(spec)

    final = await orchestrator.wait(spec.job_id)

    assert (final.phase, final.reason) == (ContainerPhase.EXITED, JobReason.LIFE_SPAN_ENDED)
    assert final.message is not None
    assert "TIMEOUT" in final.message
