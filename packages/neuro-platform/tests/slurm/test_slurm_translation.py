"""The Slurm orchestrator's pure parts: settings, state mapping, log records (no cluster)."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from neuro_platform.composition import make_orchestrator
from neuro_platform.orchestrator import (
    ContainerPhase,
    ContainerSpec,
    DockerOrchestrator,
    JobReason,
    SlurmOrchestrator,
)
from neuro_platform.orchestrator.slurm_logs import LineJoiner
from neuro_platform.orchestrator.slurm_script import batch_script, job_description
from neuro_platform.orchestrator.slurm_state import RunFiles, state_of
from neuro_platform.settings import SettingsError, load_settings

SLURM_TOML = """
[slurm]
restd_socket = "/run/slurmrestd.sock"
token_file = "/etc/neuro/slurm.jwt"
shared_dir = "/shared/neuro"
partition = "gpu"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "platform.toml"
    path.write_text(text)
    return path


async def test_a_slurm_table_selects_the_slurm_orchestrator(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, SLURM_TOML), env={})
    assert settings.slurm is not None
    assert settings.slurm.restd_socket == Path("/run/slurmrestd.sock")
    assert (settings.slurm.user, settings.slurm.partition) == ("root", "gpu")
    async with make_orchestrator(settings) as orchestrator:
        assert isinstance(orchestrator, SlurmOrchestrator)
    async with make_orchestrator(load_settings(None, env={})) as orchestrator:
        assert isinstance(orchestrator, DockerOrchestrator)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[slurm]\ntoken_file = 'x'\nshared_dir = 'y'", r"\[slurm\] restd_socket is required"),
        (SLURM_TOML + "nodes = 3\n", r"\[slurm\]: unknown key\(s\) nodes"),
        ("slurm = 1", r"\[slurm\] must be a table"),
        (SLURM_TOML.replace('"gpu"', "7"), r"\[slurm\] partition must be a string"),
    ],
)
def test_malformed_slurm_settings_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(write(tmp_path, text), env={})


def record(state: str, reason: str = "None", **more: Any) -> dict[str, Any]:
    return {"job_state": state, "state_reason": reason, "end_time": 1796549356, **more}


NOTHING = RunFiles(started_node=None, started_at=None, result=None, message=None)
EXITED_0 = RunFiles(
    started_node="node1",
    started_at=None,
    result={"exit_code": "0", "oom_killed": "false", "reason": "Completed"},
    message=None,
)


@pytest.mark.parametrize(
    ("slurm", "files", "phase", "reason", "message"),
    [
        (record("PENDING", "Resources"), NOTHING, "pending", "Scheduling", "(Resources)"),
        (record("PENDING", "Priority"), NOTHING, "pending", "Scheduling", "(Priority)"),
        (record("RUNNING"), NOTHING, "pending", "ContainerCreating", None),
        (record("NODE_FAIL"), NOTHING, "exited", "Error", "NODE_FAIL"),
        (record("TIMEOUT"), NOTHING, "exited", "LifeSpanEnded", "TIMEOUT"),
        (record("OUT_OF_MEMORY"), NOTHING, "exited", "OOMKilled", "OUT_OF_MEMORY"),
        (record("PREEMPTED"), NOTHING, "exited", "Preempted", "PREEMPTED"),
        (record("PENDING", "BeginTime", restart_cnt=1), NOTHING, "exited", "Error", "NODE_FAIL"),
        (
            record("PENDING", "BeginTime", restart_cnt=1, preempt_time=1796549300),
            NOTHING,
            "exited",
            "Preempted",
            "PREEMPTED",
        ),
        (record("CANCELLED"), NOTHING, "exited", "Error", "CANCELLED"),
        (record("COMPLETING"), EXITED_0, "exited", "Completed", None),
        (None, EXITED_0, "exited", "Completed", None),
        (None, NOTHING, "exited", "Error", "gone"),
        # A result written later by a shell left running on a dead node changes nothing.
        (record("NODE_FAIL"), EXITED_0, "exited", "Error", "NODE_FAIL"),
    ],
)
def test_slurm_states_and_reasons_become_the_platforms(
    slurm: dict[str, Any] | None,
    files: RunFiles,
    phase: str,
    reason: str,
    message: str | None,
) -> None:
    state = state_of("job-1", slurm, files, None)
    assert (state.phase, state.reason) == (ContainerPhase(phase), JobReason(reason))
    if message is None:
        assert state.message is None
    else:
        assert state.message is not None
        assert message in state.message


def test_log_records_become_whole_lines_with_docker_stamps() -> None:
    joiner = LineJoiner()
    first = list(joiner.feed(b"2026-12-06T09:29:16.1+00:00 stdout P abc\n2026-12-06T09:29"))
    assert first == []
    rest = list(joiner.feed(b":17.2+00:00 stderr F def\n2026-12-06T09:29:18.3+00:00 stdout F \n"))
    assert rest == [(b"2026-12-06T09:29:16.1Z", b"abcdef\n"), (b"2026-12-06T09:29:18.3Z", b"\n")]


def test_hostile_values_stay_arguments_in_the_batch_script(tmp_path: Path) -> None:
    spec = ContainerSpec(
        job_id="job-1",
        owner="alice",
        image="busybox:latest",
        cpu=1.5,
        memory=100 * 1024**2,
        command=("sh", "-c", "echo '$(reboot)'; `reboot`"),
        env={"X": "'; reboot; '", "Y": "$(reboot)"},
        gpu=2,
    )
    script = batch_script(
        spec,
        container="neuro-i-job-1",
        job_dir=tmp_path,
        image_dir=tmp_path,
        node_env_file=None,
        pids_limit=100,
        auth_file=None,
    )
    run_line = next(line for line in script.splitlines() if line.startswith("if ! { podman create"))
    words = shlex.split(run_line.removesuffix("\\"))
    assert words[words.index("-e") :][:4] == ["-e", "X='; reboot; '", "-e", "Y=$(reboot)"]
    image_at = words.index("busybox:latest")
    assert words[image_at + 1 : image_at + 4] == ["sh", "-c", "echo '$(reboot)'; `reboot`"]
    job = job_description(spec, "neuro-i-job-1", tmp_path, "gpu")
    assert (job["cpus_per_task"], job["memory_per_node"], job["gres"]) == (2, 100, "gpu:2")
    assert job["partition"] == "gpu"


def test_preemptible_jobs_go_to_the_preemptible_partition(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, SLURM_TOML + 'preemptible_partition = "spot"\n'), env={}
    ).slurm
    assert settings is not None
    spec = ContainerSpec(job_id="job-1", owner="a", image="busybox", cpu=0.5, memory=1)
    normal = job_description(
        spec, "n", tmp_path, settings.partition, settings.preemptible_partition
    )
    spot = job_description(
        replace(spec, preemptible=True),
        "n",
        tmp_path,
        settings.partition,
        settings.preemptible_partition,
    )
    assert (normal["partition"], spot["partition"]) == ("gpu", "spot")
    assert (normal["cpus_per_task"], normal["memory_per_node"]) == (1, 1)
    assert "partition" not in job_description(replace(spec, preemptible=True), "n", tmp_path, None)


def test_the_life_span_is_the_time_limit_and_none_is_said_outright(tmp_path: Path) -> None:
    spec = ContainerSpec(job_id="job-1", owner="a", image="busybox", cpu=0.5, memory=1)
    assert job_description(replace(spec, time_limit_s=61), "n", tmp_path, None)["time_limit"] == 2
    # Left out, Slurm's backfill scheduler would give the job a year (seen on a CI run).
    assert job_description(spec, "n", tmp_path, None)["time_limit"] == "UNLIMITED"
