"""What the monitoring endpoints read: logs with timestamps and since, usage stats, addresses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from neuro_platform.orchestrator import ContainerSpec, DockerOrchestrator
from neuro_platform.orchestrator.testing import collect_logs

SpecFactory = Callable[..., ContainerSpec]


def _timestamped_lines(output: bytes) -> list[tuple[datetime, bytes]]:
    lines = []
    for line in output.splitlines():
        stamp, _, text = line.partition(b" ")
        lines.append((datetime.fromisoformat(stamp.decode()), text))
    return lines


async def test_logs_with_timestamps_prefix_every_line(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sh", "-c", "echo first; echo second")
    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)

    lines = _timestamped_lines(await collect_logs(orchestrator, spec.job_id, timestamps=True))

    assert [text for _, text in lines] == [b"first", b"second"]
    (first, _), (second, _) = lines
    assert first.tzinfo is not None
    assert first <= second


async def test_a_line_longer_than_the_engine_cuts_keeps_one_timestamp(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    # The engine stores it as 16 KiB pieces, each with a timestamp of its own.
    spec = make_spec("sh", "-c", "head -c 40000 /dev/zero | tr '\\0' a; echo; echo short")
    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)

    lines = _timestamped_lines(await collect_logs(orchestrator, spec.job_id, timestamps=True))

    assert [text for _, text in lines] == [b"a" * 40000, b"short"]


async def test_logs_since_skip_earlier_lines(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    # The pause only separates the two lines' timestamps; nothing measures it.
    spec = make_spec("sh", "-c", "echo early; sleep 1; echo late")
    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)
    lines = _timestamped_lines(await collect_logs(orchestrator, spec.job_id, timestamps=True))
    late_stamp = lines[1][0]

    later = await collect_logs(orchestrator, spec.job_id, since=late_stamp)

    assert later == b"late\n"


async def test_logs_since_a_lines_own_timestamp_include_that_line(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    # How a log reader resumes after a break: from the last timestamp it has seen.
    spec = make_spec("sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo line $i; done")
    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)
    lines = _timestamped_lines(await collect_logs(orchestrator, spec.job_id, timestamps=True))

    for stamp, text in lines:
        resumed = await collect_logs(orchestrator, spec.job_id, since=stamp)
        assert text + b"\n" in resumed.splitlines(keepends=True)


async def test_follow_streams_until_the_job_exits(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.2; done")
    await orchestrator.start(spec)

    output = await collect_logs(orchestrator, spec.job_id, follow=True)

    assert output == b"line 1\nline 2\nline 3\n"
    assert (await orchestrator.state(spec.job_id)).is_finished


async def test_logs_keep_bytes_that_are_not_utf8(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("printf", "caf\\351\\n")  # Latin-1 "café"
    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)

    assert await collect_logs(orchestrator, spec.job_id) == b"caf\xe9\n"


async def test_stats_report_cpu_within_the_limit_and_memory(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sh", "-c", "while :; do :; done", cpu=0.5)
    await orchestrator.start(spec)

    stats = await orchestrator.stats(spec.job_id)

    assert stats is not None
    assert stats.memory_bytes > 0
    # A busy loop uses a whole core unless the half-core limit holds it back.
    assert 0 < stats.cpu < 0.75


async def test_stats_and_address_of_a_finished_job_are_none(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("true")
    await orchestrator.start(spec)
    await orchestrator.wait(spec.job_id)

    assert await orchestrator.stats(spec.job_id) is None
    assert await orchestrator.ip_address(spec.job_id) is None


async def test_running_job_has_an_ip_address(
    orchestrator: DockerOrchestrator, make_spec: SpecFactory
) -> None:
    spec = make_spec("sleep", "300")
    await orchestrator.start(spec)

    address = await orchestrator.ip_address(spec.job_id)

    assert address is not None
    assert address.count(".") == 3
