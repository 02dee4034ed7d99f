"""Registry-style error answers: `{"errors": [{"code", "message"}]}` as docker expects, plus
the platform's own `{"error": message}` so every 4xx reads the same to our clients."""

from __future__ import annotations

from aiohttp import web

API_VERSION_HEADER = "Docker-Distribution-Api-Version"
API_VERSION = "registry/2.0"


class RegistryError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> web.Response:
        body = {
            "errors": [{"code": self.code, "message": self.message, "detail": None}],
            "error": self.message,
        }
        response = web.json_response(body, status=self.status)
        response.headers[API_VERSION_HEADER] = API_VERSION
        response.headers.update(self.headers)
        return response


def unauthorized(message: str, realm: str) -> RegistryError:
    # The realm is quoted: cluster names are [a-z0-9-], nothing to escape.
    return RegistryError(
        401, "UNAUTHORIZED", message, {"WWW-Authenticate": f'Basic realm="{realm}"'}
    )


def denied(message: str) -> RegistryError:
    return RegistryError(403, "DENIED", message)


def name_invalid(message: str) -> RegistryError:
    return RegistryError(400, "NAME_INVALID", message)


def not_found(message: str) -> RegistryError:
    return RegistryError(404, "NAME_UNKNOWN", message)


def unavailable(message: str, retry_after_s: int | None) -> RegistryError:
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else {}
    return RegistryError(503, "UNAVAILABLE", message, headers)
