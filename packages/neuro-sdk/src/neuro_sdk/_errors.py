"""Every exception the SDK raises on purpose.

All of them share one root, so ``except neuro_sdk.NeuroError`` catches anything the SDK
reports, while the documented classes keep their documented builtin bases::

    NeuroError
    ├── ClientError
    │   └── AuthError
    │       ├── AuthenticationError        HTTP 401
    │       └── AuthorizationError         HTTP 403
    ├── IllegalArgumentError (ValueError)  HTTP 400 and unexpected statuses
    ├── ResourceNotFound (ValueError)      HTTP 404
    ├── ServerNotAvailable (ValueError)    HTTP 502
    ├── ConfigError (RuntimeError)         local config: missing, malformed, bad modes
    ├── NDJSONError (ValueError)           an in-band {"error": ...} line of a stream
    ├── StdStreamError                     exec/attach finished with an exit code
    └── NotSupportedError (NotImplementedError)  the server lacks an optional service

Network failures are raised as the raw ``aiohttp.ClientError`` they are, and a 400
answer carrying ``errno`` becomes the matching ``OSError`` subclass (see ``_core``).
"""


class NeuroError(Exception):
    """Root of every error the SDK raises on purpose."""


class ClientError(NeuroError):
    """The server refused a request."""


class IllegalArgumentError(NeuroError, ValueError):
    """The server rejected the request's arguments (HTTP 400, or an unexpected status)."""


class AuthError(ClientError):
    """Logging in, or using the stored token, failed."""


class AuthenticationError(AuthError):
    """The server does not accept the token (HTTP 401)."""


class AuthorizationError(AuthError):
    """The user lacks a permission (HTTP 403)."""


class ResourceNotFound(NeuroError, ValueError):
    """The requested resource does not exist (HTTP 404)."""


class ServerNotAvailable(NeuroError, ValueError):
    """A gateway in front of the service could not reach it (HTTP 502)."""


class ConfigError(NeuroError, RuntimeError):
    """The local configuration is missing, malformed or unsafe."""


class NDJSONError(NeuroError, ValueError):
    """A stream of JSON lines reported a failure in-band."""


class StdStreamError(NeuroError):
    """An exec or attach session ended with a non-zero exit code."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(f"Stream finished with exit code {exit_code}")
        self.exit_code = exit_code


class NotSupportedError(NeuroError, NotImplementedError):
    """The platform does not provide the feature (for example, no admin service)."""
