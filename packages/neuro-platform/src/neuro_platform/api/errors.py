"""One middleware turns every failure into a JSON error with the status of docs/protocol.md §9."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from .. import __version__
from ..auth.identity import NotAuthenticatedError
from ..permissions import PermissionDeniedError

log = logging.getLogger(__name__)

SERVICE_VERSION_HEADER = "X-Service-Version"


class BadRequestError(ValueError):
    """Input the client must fix: 400."""


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as e:
        if e.status < 400 or e.content_type == "application/json":
            raise
        response = _json_error(e.status, e.reason if e.text is None else _plain(e))
        if "Allow" in e.headers:  # 405 answers must say what is allowed
            response.headers["Allow"] = e.headers["Allow"]
    except NotAuthenticatedError as e:
        response = _json_error(401, str(e))
    except PermissionDeniedError as e:
        response = web.json_response({"missing": [p.to_json() for p in e.missing]}, status=403)
    except ValidationError as e:  # before ValueError, which it is
        response = _json_error(400, validation_message(e))
    except (BadRequestError, json.JSONDecodeError, ValueError) as e:
        response = _json_error(400, str(e))
    except Exception:
        log.exception("unexpected exception handling %s %s", request.method, request.path)
        response = _json_error(500, "Unexpected exception")
    response.headers[SERVICE_VERSION_HEADER] = f"neuro-platform/{__version__}"
    return response


def validation_message(error: ValidationError) -> str:
    """One line naming the first wrong field, e.g. `container.env.A: Input should be a valid
    string`; never the input itself, which may be huge or secret."""
    first = error.errors(include_url=False, include_input=False, include_context=False)[0]
    location = ".".join(str(part) for part in first["loc"])
    message = f"{location}: {first['msg']}" if location else first["msg"]
    more = error.error_count() - 1
    return f"{message} (and {more} more)" if more else message


def _plain(e: web.HTTPException) -> str:
    text = e.text or e.reason
    # aiohttp's default bodies look like "404: Not Found"; the reason alone reads better.
    return e.reason if text.startswith(f"{e.status}:") else text


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
