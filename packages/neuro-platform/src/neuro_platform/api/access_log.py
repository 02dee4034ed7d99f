"""aiohttp's access log, with the `neuro-auth-token` query value redacted.

Browsers and websocket clients may only be able to pass a token in the query (docs/protocol.md §2),
so request lines carry credentials; a log must not. Every logged string is scrubbed (the
request line and the `Referer`, which repeats a page's URL), and a parameter whose name is
percent-encoded counts too, since aiohttp decodes names before the token is looked up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote_plus

from aiohttp.web_log import AccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from ..auth.identity import TOKEN_QUERY_PARAMETER

REDACTED = "REDACTED"
_PARAMETER = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#\s\"]*)=(?P<value>[^&;#\s\"]*)")


def redact_token(text: str) -> str:
    def scrub(match: re.Match[str]) -> str:
        if unquote_plus(match["name"]).lower() != TOKEN_QUERY_PARAMETER:
            return match[0]
        return f"{match['lead']}{match['name']}={REDACTED}"

    return _PARAMETER.sub(scrub, text)


class RedactingAccessLogger(AccessLogger):
    def _format_line(
        self, request: BaseRequest, response: StreamResponse, time: float
    ) -> Iterable[tuple[str | tuple[str, str], str]]:
        return [
            (key, redact_token(value) if isinstance(value, str) else value)
            for key, value in super()._format_line(request, response, time)
        ]
