"""The signed-in caller of a console request, as the console middleware found it."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Caller:
    name: str
    # None when signed in with a Bearer header: such requests need no CSRF token.
    csrf: str | None


_CALLER = web.RequestKey("console_caller", Caller)


def set_caller(request: web.Request, caller: Caller) -> None:
    request[_CALLER] = caller


def caller(request: web.Request) -> Caller:
    """The caller; the middleware has refused the request if there is none."""
    return request[_CALLER]
