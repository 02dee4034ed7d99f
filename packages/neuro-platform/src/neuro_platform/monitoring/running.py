"""The caller and the running job an interactive request addresses, checked before any
upgrade is accepted."""

from __future__ import annotations

from aiohttp import web

from ..api.keys import AUTHENTICATOR
from ..jobs.entities import Job
from .keys import MONITORING


async def caller(request: web.Request) -> str:
    """The authenticated caller: handlers ask before they look at their parameters, so a
    request without a valid token learns nothing but 401."""
    return await request.config_dict[AUTHENTICATOR].required_user(request)


async def running_job(request: web.Request, user: str) -> Job:
    """The job in the path, which `user` may write to and which runs now (see
    `MonitoringService.running_job`)."""
    return await request.config_dict[MONITORING].running_job(user, request.match_info["id"])
