"""A thin raw-HTTP client of the jobs API for the tests (the SDK is tested elsewhere)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Mapping
from types import TracebackType
from typing import Any, Self

import aiohttp

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.loopback import loopback_session

POLL_S = 0.1
FINISHED = ("succeeded", "failed", "cancelled")


class JobsClient:
    def __init__(self, server: PlatformServer, user: str) -> None:
        self.server = server
        self.user = user
        self.token = server.issue_token(user)
        self.jobs_url = server.api_url / "jobs"
        # Loopback for `*.localhost`: jobs' HTTP ports are served on hosts of their own.
        self.session = loopback_session(headers={"Authorization": f"Bearer {self.token}"})

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.session.close()

    async def submit(self, body: Mapping[str, Any], *, from_preset: bool = True) -> dict[str, Any]:
        url = self.jobs_url % {"from_preset": ""} if from_preset else self.jobs_url
        async with self.session.post(url, json=body) as response:
            assert response.status == 202, await response.text()
            job: dict[str, Any] = await response.json()
            return job

    async def submit_error(
        self, body: Mapping[str, Any], *, from_preset: bool = True
    ) -> tuple[int, dict[str, Any]]:
        url = self.jobs_url % {"from_preset": ""} if from_preset else self.jobs_url
        async with self.session.post(url, json=body) as response:
            return response.status, await response.json()

    async def get(self, id_or_name: str) -> dict[str, Any]:
        async with self.session.get(self.jobs_url / id_or_name) as response:
            assert response.status == 200, await response.text()
            job: dict[str, Any] = await response.json()
            return job

    async def list(self, query: Any = (), *, ndjson: bool = True) -> list[dict[str, Any]]:
        headers = {"Accept": "application/x-ndjson"} if ndjson else {}
        async with self.session.get(self.jobs_url, params=query, headers=headers) as response:
            assert response.status == 200, await response.text()
            if ndjson:
                assert response.content_type == "application/x-ndjson"
                return [json.loads(line) async for line in response.content if line.strip()]
            jobs: list[dict[str, Any]] = (await response.json())["jobs"]
            return jobs

    async def kill(self, id_or_name: str) -> int:
        async with self.session.delete(self.jobs_url / id_or_name) as response:
            return response.status

    async def wait_for(self, job_id: str, statuses: Collection[str]) -> dict[str, Any]:
        """Polls until the job reaches one of `statuses` (the test timeout bounds it)."""
        while True:
            job = await self.get(job_id)
            if job["status"] in statuses:
                return job
            if job["status"] in FINISHED:
                raise AssertionError(f"job ended as {job['status']}: {job['history']}")
            await asyncio.sleep(POLL_S)

    async def wait_for_restarts(self, job_id: str, count: int) -> dict[str, Any]:
        while True:
            job = await self.get(job_id)
            if job["history"]["restarts"] >= count:
                return job
            await asyncio.sleep(POLL_S)

    async def wait_until_collected(self, job_id: str) -> dict[str, Any]:
        """Until the finished job's container is gone (its output archived)."""
        while True:
            job = await self.get(job_id)
            if not job["materialized"]:
                return job
            await asyncio.sleep(POLL_S)

    async def wait_for_reason(self, job_id: str, reason: str) -> dict[str, Any]:
        while True:
            job = await self.get(job_id)
            if job["history"]["reason"] == reason:
                return job
            await asyncio.sleep(POLL_S)

    async def logs(self, job_id: str, **params: str) -> bytes:
        chunks = []
        async with self.session.ws_connect(self.jobs_url / job_id / "log_ws", params=params) as ws:
            async for message in ws:
                assert message.type is aiohttp.WSMsgType.BINARY, message
                chunks.append(message.data)
        return b"".join(chunks)
