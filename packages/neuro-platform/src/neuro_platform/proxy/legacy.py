"""The old path-based proxy URLs, `<public url>/jobs-http/<label>/<path>`, now redirect.

Serving a job there would put its pages on the platform's origin (its cookies, its login
page within a script's reach), so these paths only send the browser to the job's own host,
keeping the path and the query (`?neuro-auth-token=` included: the job host trades it for
its cookie). No lookup: whether the job exists is the job host's to answer, after auth.
"""

from __future__ import annotations

from aiohttp import web

from ..api.keys import SETTINGS
from ..errors import NotFoundError
from ..jobs.host_names import http_url, is_host_label

PREFIX = "jobs-http"


def create_legacy_redirect_app() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/{label}", _redirect)
    app.router.add_route("*", "/{label}/{path:.*}", _redirect)
    return app


async def _redirect(request: web.Request) -> web.Response:
    label = request.match_info["label"]
    if not is_host_label(label):
        raise NotFoundError(f"No job can be named {label!r}")
    settings = request.config_dict[SETTINGS]
    origin = http_url(settings.public_url, settings.jobs.http_domain, label)
    path = "/" + request.match_info.get("path", "")
    # 307 keeps the method and body of a POST.
    target = origin.with_path(path, encoded=False).with_query(request.rel_url.query)
    return web.Response(status=307, headers={"Location": str(target)})
