"""How engine answers become job states: the cases a live engine cannot easily produce."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from neuro_platform.orchestrator import ContainerPhase, JobReason
from neuro_platform.orchestrator.docker import _signal_name
from neuro_platform.orchestrator.docker_state import state_from_inspect, stats_from_sample

NEVER = "0001-01-01T00:00:00Z"


def _inspect(status: str, **state: Any) -> dict[str, Any]:
    return {
        "State": {
            "Status": status,
            "ExitCode": 0,
            "OOMKilled": False,
            "Error": "",
            "StartedAt": NEVER,
            "FinishedAt": NEVER,
            **state,
        }
    }


def test_engine_start_failure_is_container_cannot_run_with_its_message() -> None:
    error = 'exec: "/nope": stat /nope: no such file or directory'
    state = state_from_inspect("job-1", _inspect("created", ExitCode=127, Error=error))

    assert state.phase is ContainerPhase.EXITED
    assert (state.reason, state.message, state.exit_code) == (
        JobReason.CONTAINER_CANNOT_RUN,
        error,
        127,
    )
    assert state.started_at is None


def test_created_container_is_pending_and_paused_one_running() -> None:
    assert state_from_inspect("job-1", _inspect("created")).phase is ContainerPhase.PENDING
    paused = state_from_inspect("job-1", _inspect("paused", StartedAt="2026-01-02T03:04:05.5Z"))
    assert paused.phase is ContainerPhase.RUNNING
    assert paused.started_at == datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)


def test_dead_container_is_finished() -> None:
    state = state_from_inspect("job-1", _inspect("dead", ExitCode=1))
    assert (state.phase, state.reason) == (ContainerPhase.EXITED, JobReason.ERROR)


def test_stats_use_the_cpu_share_and_discount_page_cache() -> None:
    sample = {
        "cpu_stats": {
            "cpu_usage": {"total_usage": 3_000},
            "system_cpu_usage": 20_000,
            "online_cpus": 2,
        },
        "precpu_stats": {"cpu_usage": {"total_usage": 1_000}, "system_cpu_usage": 10_000},
        "memory_stats": {"usage": 10_000, "stats": {"total_inactive_file": 4_000}},
    }

    stats = stats_from_sample(sample)

    assert stats.cpu == pytest.approx(0.4)  # 2000 of 10000 host ticks on a 2-CPU host
    assert stats.memory_bytes == 6_000


@pytest.mark.parametrize(
    ("given", "expected"), [("TERM", "SIGTERM"), ("sigusr1", "SIGUSR1"), ("9", "SIGKILL")]
)
def test_signals_are_accepted_by_name_or_number(given: str, expected: str) -> None:
    assert _signal_name(given) == expected
