"""`job save`: commit a running job's container and push it to our registry (docs/protocol.md §4).

Everything the caller can get wrong is answered before the stream starts: 403 without write
on the job or on the target image, 400 for an image outside the job's cluster's registry,
404 for a job that is not running. Past that point the answer is 200 and a failure is an
NDJSON error line, the way the engine reports one.
"""

from __future__ import annotations

import contextlib
import json

from aiohttp import web

from ..api.keys import AUTHENTICATOR
from ..auth.identity import NotAuthenticatedError, request_token
from ..permissions.actions import Action
from .keys import MONITORING

NDJSON = "application/x-ndjson"

routes = web.RouteTableDef()


@routes.post("/{id}/save")
async def save(request: web.Request) -> web.StreamResponse:
    """Commits the job's container as `container.image` and pushes it (NDJSON progress)."""
    user = await request.config_dict[AUTHENTICATOR].required_user(request)
    token = request_token(request)
    if token is None:  # authenticated some other way: there is no token to push with
        raise NotAuthenticatedError("job save needs a bearer token")
    monitoring = request.config_dict[MONITORING]
    # The job first: without write on it the answer is 403 (or 404), whatever the body.
    job = await monitoring.job(user, request.match_info["id"], Action.WRITE)
    target = await monitoring.save_target(user, job, await request.json())
    response = web.StreamResponse(headers={"Content-Type": NDJSON})
    await response.prepare(request)
    try:
        async with contextlib.aclosing(monitoring.save(job, target, token)) as progress:
            async for item in progress:
                await response.write(json.dumps(item).encode() + b"\r\n")
    except ConnectionResetError:
        return response  # the client left; the image is removed all the same
    await response.write_eof()
    return response
