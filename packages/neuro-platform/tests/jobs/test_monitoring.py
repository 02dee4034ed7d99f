"""Monitoring (docs/protocol.md §4) on a real server: logs of running and finished jobs, top,
signals,
and a job's HTTP port through the platform's proxy."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import aiohttp
import pytest
from yarl import URL

from neuro_platform.monitoring.logs import parse_engine_time
from neuro_platform.testing.loopback import loopback_session

from .client import JobsClient
from .conftest import busybox_job

SEPARATOR = "<================ Live logs ==============>"


@pytest.mark.both_orchestrators
async def test_logs_of_a_running_job_stream_until_it_ends(alice: JobsClient) -> None:
    job = await alice.submit(busybox_job("echo one; sleep 1; echo two"))
    await alice.wait_for(job["id"], ["running"])
    assert await alice.logs(job["id"], separator=SEPARATOR) == b"one\ntwo\n"


@pytest.mark.both_orchestrators
async def test_logs_asked_for_at_submission_stream_once_the_job_starts(
    alice: JobsClient,
) -> None:
    # `neuro run` opens the log stream while the job is still pending: the stream waits for
    # the start (signalled by the scheduler's update of the job) and then shows everything.
    job = await alice.submit(busybox_job("echo one; echo two"))
    assert await alice.logs(job["id"], separator=SEPARATOR) == b"one\ntwo\n"


@pytest.mark.both_orchestrators
async def test_logs_of_a_finished_job_come_from_the_archive(alice: JobsClient) -> None:
    job = await alice.submit(busybox_job("echo first; sleep 1; echo second"))
    await alice.wait_for(job["id"], ["succeeded"])
    await alice.wait_until_collected(job["id"])
    stamped = await alice.logs(job["id"], timestamps="true", separator=SEPARATOR)
    lines = stamped.decode().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["first", "second"]
    second_at = parse_engine_time(lines[1].split(" ", 1)[0])
    assert isinstance(second_at, datetime)
    since_second = await alice.logs(job["id"], since=second_at.isoformat())
    assert since_second == b"second\n"


@pytest.mark.both_orchestrators
async def test_restarted_job_shows_archived_runs_then_separator_then_live(
    alice: JobsClient,
) -> None:
    job = await alice.submit(busybox_job("echo run; sleep 3; exit 1", restart_policy="on-failure"))
    await alice.wait_for_restarts(job["id"], 1)
    output = await alice.logs(job["id"], separator=SEPARATOR)  # the second run is live
    assert output.endswith(f"run\n{SEPARATOR}\nrun\n".encode())


@pytest.mark.both_orchestrators
async def test_top_reports_usage_while_the_job_runs(alice: JobsClient) -> None:
    job = await alice.submit(busybox_job("sleep 300"))
    await alice.wait_for(job["id"], ["running"])
    async with alice.session.ws_connect(alice.jobs_url / job["id"] / "top") as ws:
        sample = json.loads(await ws.receive_str())
    assert sample["memory_bytes"] > 0
    assert sample["memory"] == sample["memory_bytes"] // 2**20
    assert isinstance(sample["cpu"], float)
    assert sample["timestamp"] > 0
    await alice.kill(job["id"])


@pytest.mark.both_orchestrators
async def test_signal_reaches_the_job(alice: JobsClient) -> None:
    job = await alice.submit(
        busybox_job('trap "echo got USR1; exit 7" USR1; echo ready; while true; do sleep 0.1; done')
    )
    await alice.wait_for(job["id"], ["running"])
    async with alice.session.get(alice.jobs_url / job["id"] / "log") as response:
        assert await response.content.readline() == b"ready\n"
        async with alice.session.post(
            alice.jobs_url / job["id"] / "kill", params={"signal": "SIGUSR1"}
        ) as killed:
            assert killed.status == 204
        assert await response.content.readline() == b"got USR1\n"
    ended = await alice.wait_for(job["id"], ["failed"])
    assert ended["history"]["exit_code"] == 7


async def test_send_signal_needs_write_permission(alice: JobsClient, bob: JobsClient) -> None:
    job = await alice.submit(busybox_job("sleep 300"))
    async with bob.session.post(bob.jobs_url / job["id"] / "kill") as response:
        assert response.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await bob.session.ws_connect(bob.jobs_url / job["id"] / "log_ws")
    assert refused.value.status == 403
    assert refused.value.headers is not None
    assert json.loads(refused.value.headers["X-Error"])["missing"] == [
        {"uri": job["uri"], "action": "read"}
    ]


async def test_http_port_is_served_through_the_proxy(alice: JobsClient, bob: JobsClient) -> None:
    command = "mkdir /www; echo hello over http > /www/index.html; httpd -f -p 8080 -h /www"
    public = await alice.submit(
        busybox_job(command, name="web-public", http={"port": 8080, "requires_auth": False})
    )
    private = await alice.submit(
        busybox_job(command, name="web-private", http={"port": 8080, "requires_auth": True})
    )
    for job in (public, private):
        await alice.wait_for(job["id"], ["running"])
    async with loopback_session() as anonymous:
        body = await _get_when_up(anonymous, URL(public["http_url"]) / "index.html")
        assert body == "hello over http\n"
        named = await _get_when_up(anonymous, URL(public["http_url_named"]) / "index.html")
        assert named == "hello over http\n"
        async with anonymous.get(URL(private["http_url"]) / "index.html") as response:
            assert response.status == 401
    assert await _get_when_up(alice.session, URL(private["http_url"]) / "index.html") == (
        "hello over http\n"
    )
    async with bob.session.get(URL(private["http_url"]) / "index.html") as response:
        assert response.status == 403
    for job in (public, private):
        await alice.kill(job["id"])


async def _get_when_up(session: aiohttp.ClientSession, url: URL) -> str:
    """The job's server may need a moment after the container starts (502 until then)."""
    while True:
        async with session.get(url) as response:
            if response.status != 502:
                assert response.status == 200, await response.text()
                return await response.text()
        await asyncio.sleep(0.1)
