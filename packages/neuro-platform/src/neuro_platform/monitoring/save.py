"""`job save`: commit a running job's container and push it to our registry (docs/protocol.md §4).

Everything the caller can get wrong is answered before the stream starts: 403 without write
on the job or on the target image, 400 for an image outside the job's cluster's registry,
404 for a job that is not running. Past that point the answer is 200 and a failure is an
NDJSON error line, the way the engine reports one.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from ..api.keys import AUTHENTICATOR
from ..auth.identity import NotAuthenticatedError, request_token
from ..jobs.entities import Job, JobStatus
from ..jobs.job_images import REGISTRY_USER, SaveTarget
from ..jobs.keys import JOB_IMAGES, JOBS, ORCHESTRATOR
from ..orchestrator import ContainerNotRunningError, OrchestratorError, RegistryAuth
from ..permissions.actions import Action

log = logging.getLogger(__name__)

NDJSON = "application/x-ndjson"

routes = web.RouteTableDef()


@routes.post("/{id}/save")
async def save(request: web.Request) -> web.StreamResponse:
    """Commits the job's container as `container.image` and pushes it (NDJSON progress)."""
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    token = request_token(request)
    if token is None:  # authenticated some other way: there is no token to push with
        raise NotAuthenticatedError("job save needs a bearer token")
    job = await request.config_dict[JOBS].get(user, request.match_info["id"], Action.WRITE)
    target = await request.config_dict[JOB_IMAGES].save_target(user, job, await request.json())
    if job.status is not JobStatus.RUNNING:
        raise ContainerNotRunningError(
            f"Job {job.id} is not running (it is {job.status}): only a running job can be saved"
        )
    response = web.StreamResponse(headers={"Content-Type": NDJSON})
    await response.prepare(request)
    async with request.config_dict[JOB_IMAGES].saving(target.image):
        await _commit_and_push(request, response, job, target, RegistryAuth(REGISTRY_USER, token))
    await response.write_eof()
    return response


async def _commit_and_push(
    request: web.Request,
    response: web.StreamResponse,
    job: Job,
    target: SaveTarget,
    auth: RegistryAuth,
) -> None:
    orchestrator = request.config_dict[ORCHESTRATOR]
    committed = False
    try:
        await _send(
            response,
            {"status": "CommitStarted", "details": {"container": job.id, "image": target.image}},
        )
        await orchestrator.commit(job.id, target.image)
        committed = True
        await _send(response, {"status": "CommitFinished"})
        async for progress in orchestrator.push(target.image, auth=auth):
            await _send(response, progress)
    except OrchestratorError as error:
        await _send(response, {"error": error.message, "errorDetail": {"message": error.message}})
    except ConnectionResetError:
        pass  # the client left; the image is removed below all the same
    finally:
        if committed:
            try:
                await orchestrator.remove_image(target.image)
            except OrchestratorError:
                log.exception("removing the local image %s after a save failed", target.image)


async def _send(response: web.StreamResponse, item: dict[str, Any]) -> None:
    await response.write(json.dumps(item).encode() + b"\r\n")
