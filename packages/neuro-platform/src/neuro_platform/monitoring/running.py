"""The running job an interactive request addresses, checked before any upgrade is accepted."""

from __future__ import annotations

from aiohttp import web

from ..api.keys import AUTHENTICATOR
from ..jobs.entities import Job, JobStatus
from ..jobs.keys import JOBS
from ..orchestrator import ContainerNotRunningError
from ..permissions.actions import Action


async def caller(request: web.Request) -> str:
    """The authenticated caller: handlers ask before they look at their parameters, so a
    request without a valid token learns nothing but 401."""
    return await request.config_dict[AUTHENTICATOR].required_user(request)


async def running_job(request: web.Request, user: str) -> Job:
    """The job in the path, which `user` may write to (exec, attach and port-forward
    all act on it), and which runs now: otherwise 404 rather than a socket that waits."""
    job = await request.config_dict[JOBS].get(user, request.match_info["id"], Action.WRITE)
    if job.status is not JobStatus.RUNNING:
        raise ContainerNotRunningError(f"Job {job.id} is not running (it is {job.status})")
    return job
