"""The one place failures become HTTP answers: a JSON error with the status of
docs/protocol.md §9, from the domain exception a handler or service raised.

Handlers do not catch domain errors to pick a status: they let them rise to `error_middleware`
(on the root application, so it wraps every sub-application too). An answer to a websocket
handshake also carries its body in `X-Error`, which is all a websocket client gets to see
(docs/protocol.md §1).
"""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from .. import __version__
from ..auth.identity import NotAuthenticatedError
from ..errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    RefusedError,
    UnavailableError,
    UnprocessableError,
)
from ..monitoring.errors import PortUnreachableError
from ..permissions import PermissionDeniedError
from ..storage.errors import DestinationError, StorageError

log = logging.getLogger(__name__)

SERVICE_VERSION_HEADER = "X-Service-Version"
ERROR_HEADER = "X-Error"
# A 503 (SQLite's "database is locked" after its busy timeout, an engine that is not running):
# the request did nothing and may be sent again.
RETRY_AFTER_S = 1


class BadRequestError(ValueError):
    """A request the handler cannot even parse (a missing body, a wrong header): 400."""


class BadGatewayError(Exception):
    """The job behind the proxy cannot answer (docs/protocol.md §7): 502."""


# Checked in order, so a subclass listed before its base wins.
_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (RefusedError, 403),
    (UnprocessableError, 422),
    (UnavailableError, 503),
)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as e:  # aiohttp's own: no route, method not allowed, too large
        if e.status < 400:
            raise
        response = _failure(request, e.status, {"error": _plain(e)})
        if "Allow" in e.headers:  # 405 answers must say what is allowed
            response.headers["Allow"] = e.headers["Allow"]
    except Exception as e:
        status, body = status_and_body(e)
        if status >= 500:
            log.exception("unexpected exception handling %s %s", request.method, request.path)
        response = _failure(request, status, body)
        if status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_S)
    response.headers[SERVICE_VERSION_HEADER] = f"neuro-platform/{__version__}"
    return response


def status_and_body(error: Exception) -> tuple[int, Mapping[str, object]]:
    """The answer to `error`: the mapping from domain exceptions to HTTP, stated once."""
    match error:
        case NotAuthenticatedError():
            return 401, {"error": str(error)}
        case PermissionDeniedError():
            missing = [p.to_json() for p in error.missing]
            if error.message is None:
                return 403, {"missing": missing}
            return 403, {"error": error.message, "missing": missing}
        case DomainError():
            status = next(s for kind, s in _DOMAIN_STATUS if isinstance(error, kind))
            if error.code is not None:  # the original services' shape (docs/protocol.md §9)
                return status, {"code": error.code, "description": str(error)}
            return status, {"error": str(error)}
        case StorageError():  # the errno is the contract (docs/protocol.md §9)
            # A missing destination parent is a bad argument to RENAME, not a missing resource.
            absent = error.code == errno.ENOENT and not isinstance(error, DestinationError)
            return 404 if absent else 400, {"error": error.text, "errno": error.errno_name}
        case PortUnreachableError():
            return 400, {"msg": error.summary, "error": str(error)}
        case ValidationError():  # before ValueError, which it is
            return 400, {"error": validation_message(error)}
        case BadGatewayError():
            return 502, {"error": str(error)}
        case ValueError() | json.JSONDecodeError():
            return 400, {"error": str(error)}
        case OperationalError() if "database is locked" in str(error.orig):
            return 503, {"error": "The database is busy: retry shortly"}
        case _:
            return 500, {"error": "Unexpected exception"}


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


def _failure(request: web.Request, status: int, body: Mapping[str, object]) -> web.Response:
    text = json.dumps(body)
    headers = {ERROR_HEADER: text} if _is_websocket(request) else None
    return web.json_response(text=text, status=status, headers=headers)


def _is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"
