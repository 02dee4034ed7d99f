"""A platform job's state from its Slurm record and the files its run left on the shared
filesystem (orchestrator/slurm_script.py says which).

Slurm's verdict wins where it has one of its own (a node that failed, a time limit, memory,
preemption): the job's shell may have been left running on a dead node, and whatever it
writes later must not turn a NODE_FAIL into a success.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .reasons import JobReason
from .state import ContainerPhase, ContainerState

_SLURM_VERDICTS: dict[str, tuple[JobReason, str]] = {
    "NODE_FAIL": (JobReason.ERROR, "Slurm: NODE_FAIL, the job's node stopped responding"),
    # The time limit is the job's life span (slurm_script.job_description).
    "TIMEOUT": (JobReason.LIFE_SPAN_ENDED, "Slurm: TIMEOUT, the job reached its time limit"),
    "OUT_OF_MEMORY": (JobReason.OOM_KILLED, "Slurm: OUT_OF_MEMORY"),
    # The scheduler suspends a preemptible job so preempted, as its own preemption does.
    "PREEMPTED": (JobReason.PREEMPTED, "Slurm: PREEMPTED, a higher job took its node"),
    "BOOT_FAIL": (JobReason.ERROR, "Slurm: BOOT_FAIL, the node could not start"),
    "DEADLINE": (JobReason.ERROR, "Slurm: DEADLINE"),
}
_ENDED = frozenset({"COMPLETED", "FAILED", "CANCELLED", *_SLURM_VERDICTS})
_REQUEUED = (JobReason.ERROR, "Slurm: requeued after NODE_FAIL or preemption; not run again")


def was_requeued(record: Mapping[str, Any] | None) -> bool:
    """Slurm put the job back in the queue (its node failed, or it was preempted).

    The platform's restart policy, not Slurm, decides whether a job runs again: such a
    job is over (and cancelled). slurmrestd v0.0.38 ignores `"requeue": false` at submit.
    """
    return bool(record) and int((record or {}).get("restart_cnt") or 0) > 0


def is_ended(record: Mapping[str, Any] | None) -> bool:
    return record is None or str(record.get("job_state", "")) in _ENDED


@dataclass(frozen=True)
class RunFiles:
    started_node: str | None
    started_at: datetime | None
    result: Mapping[str, str] | None
    message: str | None
    # The container's own address; None on its node's network (the node's address then).
    started_address: str | None = None

    @classmethod
    def read(cls, run_dir: Path) -> RunFiles:
        started = _read(run_dir / "started")
        node, started_at, address = None, None, None
        if started:
            node, moment, address = [*started.split(), "", "", ""][:3]
            started_at = _time(moment)
        result_text = _read(run_dir / "result")
        result = None
        if result_text is not None:
            result = dict(
                line.split(" ", 1) for line in result_text.splitlines() if " " in line.strip()
            )
        message = (_read(run_dir / "message") or "").strip() or None
        return cls(node, started_at, result, message, address or None)


def state_of(
    job_id: str,
    record: Mapping[str, Any] | None,
    files: RunFiles,
    address: str | None,
) -> ContainerState:
    slurm_state = str(record.get("job_state", "")) if record else ""
    if slurm_state in _SLURM_VERDICTS or was_requeued(record):
        reason, message = _SLURM_VERDICTS.get(slurm_state, _REQUEUED)
        if slurm_state not in _SLURM_VERDICTS and _epoch((record or {}).get("preempt_time")):
            # Preemption of a requeueable job (slurmrestd's are) requeues it: still PREEMPTED.
            reason, message = _SLURM_VERDICTS["PREEMPTED"]
        return ContainerState(
            job_id,
            ContainerPhase.EXITED,
            exit_code=int((files.result or {}).get("exit_code", 137)),
            oom_killed=reason is JobReason.OOM_KILLED,
            reason=reason,
            message=message,
            started_at=files.started_at,
            finished_at=_epoch(record.get("end_time")) if record else None,
        )
    if files.result is not None:
        return _from_result(job_id, files)
    if record is None or slurm_state in _ENDED:
        # The shell ended without a result (killed before it could write one), or Slurm
        # has forgotten a job whose run left nothing: it is over all the same.
        return ContainerState(
            job_id,
            ContainerPhase.EXITED,
            exit_code=137,
            reason=JobReason.ERROR,
            message=f"Slurm: {slurm_state or 'the job is gone'}",
            started_at=files.started_at,
            finished_at=_epoch(record.get("end_time")) if record else None,
        )
    if slurm_state == "PENDING":
        why = str(record.get("state_reason") or "None")
        return ContainerState(
            job_id,
            ContainerPhase.PENDING,
            reason=JobReason.SCHEDULING,
            message=f"Slurm: PENDING ({why})",
        )
    if files.started_at is None:  # allocated: the node is fetching the image
        return ContainerState(job_id, ContainerPhase.PENDING, reason=JobReason.CONTAINER_CREATING)
    return ContainerState(
        job_id, ContainerPhase.RUNNING, started_at=files.started_at, address=address
    )


def _from_result(job_id: str, files: RunFiles) -> ContainerState:
    assert files.result is not None
    result = files.result
    try:
        reason = JobReason(result.get("reason", "Error"))
    except ValueError:
        reason = JobReason.ERROR
    return ContainerState(
        job_id,
        ContainerPhase.EXITED,
        exit_code=int(result.get("exit_code", "1")),
        oom_killed=result.get("oom_killed") == "true",
        reason=reason,
        message=files.message if reason is not JobReason.COMPLETED else None,
        started_at=files.started_at,
        finished_at=_time(result.get("finished_at", "")),
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return None


def _time(text: str) -> datetime | None:
    """`date -u +%Y-%m-%dT%H:%M:%S.%NZ`: nanoseconds, which Python keeps to microseconds."""
    text = text.strip()
    if not text:
        return None
    head, _, fraction = text.rstrip("Z").partition(".")
    try:
        moment = datetime.fromisoformat(head).replace(tzinfo=UTC)
    except ValueError:
        return None
    micros = int((fraction + "000000")[:6]) if fraction.isdigit() else 0
    return moment.replace(microsecond=micros)


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, int) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None
